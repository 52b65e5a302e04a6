// Command pushbase copies an image pyship can read (a reference, oci-layout:DIR[:REF] or a
// tarball) to a registry reference, for benchmarks that build with podman: pushbase SRC DST.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pyship/pyship/internal/image"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "pushbase: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: pushbase SRC DST")
	}
	img, err := image.Open(ctx, args[0], image.DefaultCacheDir(os.Environ()))
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(args[1])
	if err != nil {
		return err
	}
	return remote.Write(ref, img, remote.WithContext(ctx))
}
