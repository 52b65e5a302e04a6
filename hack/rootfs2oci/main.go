// Command rootfs2oci turns a root filesystem tarball (from mmdebstrap) into a one-layer
// linux/amd64 OCI image in an OCI layout: rootfs2oci ROOTFS.tar LAYOUT-DIR REF-NAME [COMMAND]
// (the image's command, python3 unless given).
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "rootfs2oci: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 && len(args) != 4 {
		return fmt.Errorf("usage: rootfs2oci ROOTFS.tar LAYOUT-DIR REF-NAME [COMMAND]")
	}
	command := "python3"
	if len(args) == 4 {
		command = args[3]
	}
	layer, err := tarball.LayerFromFile(args[0], tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(1700000000, 0).UTC()}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cf.Config.Cmd = []string{command}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	p, err := layout.Write(args[1], empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": args[2]}), layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
}
