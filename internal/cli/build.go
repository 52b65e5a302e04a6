package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/registry"
	"github.com/spf13/cobra"
)

type buildOptions struct {
	planFile, env, base, registry, tag, python string
	push                                       bool
	ociLayout, tarFile                         string
	out                                        outputFlag
}

func newBuildCmd(s *streams) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build the app's OCI image without a daemon and push it or write it out",
		Long: `Build the app's OCI image: the base, a cached dependency layer, the app layer and config,
reproducibly (SOURCE_DATE_EPOCH or the commit time). Prints the image reference with its digest.

Outputs (several at once): --push to the registry ([build] registry or --registry; the local
'pyship registry serve' at ` + registry.DefaultAddr + ` when none is set), --oci-layout DIR, --tar FILE.
Without any output flag the image is pushed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return o.run(cmd, s, dir)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.planFile, "plan", "", "read the plan from `FILE` (written by pyship plan --output json) instead of resolving DIR")
	f.StringVar(&o.env, "env", "", "apply the spec's [env.NAME] overlay")
	f.StringVar(&o.base, "base", "", "base image: a reference, oci-layout:DIR[:REF] or a tarball (default [build] base, else python:VERSION-slim)")
	f.StringVar(&o.registry, "registry", "", "registry (and path) to push to, e.g. ghcr.io/acme (default [build] registry)")
	f.BoolVar(&o.push, "push", false, "push to the registry (the default when a registry is set or no other output is asked for)")
	f.StringVar(&o.ociLayout, "oci-layout", "", "also write the image into this OCI layout folder")
	f.StringVar(&o.tarFile, "tar", "", "also write the image as a tarball `FILE` for docker load / podman load")
	f.StringVar(&o.tag, "tag", "", "image tag (default the app's version, else latest)")
	f.StringVar(&o.python, "python", "python3", "the build host's Python with pip, used to install and byte-compile")
	o.out.register(cmd)
	return cmd
}

func (o *buildOptions) run(cmd *cobra.Command, s *streams, dir string) error {
	created, err := sourceDateEpoch(s)
	if err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	p, err := planSource{dir: dir, planFile: o.planFile, env: o.env, in: s.In}.load(ctx)
	if err != nil {
		return err
	}
	if err := checkSyntax(ctx, s, p, "building", image.Interpreter(ctx, o.python, s.environ())); err != nil {
		return err
	}
	start := time.Now()
	out, err := platform.BuildImage(ctx, p, platform.BuildOptions{Env: s.environ(), Python: o.python, Base: o.base, Registry: o.registry, Tag: o.tag,
		Push: o.push, OCILayout: o.ociLayout, TarFile: o.tarFile, Created: created, Progress: s.Err})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "built %s in %s\n", out.Digest, time.Since(start).Round(time.Millisecond))
	if o.out.json() {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	_, err = fmt.Fprintln(s.Out, out.Image)
	return err
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH of the command's environment; zero when unset.
func sourceDateEpoch(s *streams) (time.Time, error) {
	v := s.getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
