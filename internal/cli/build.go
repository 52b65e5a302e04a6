package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/registry"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
)

type buildOptions struct {
	planFile, env, base, registry, tag, python string
	push                                       bool
	ociLayout, tarFile, output                 string
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
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// buildResult is the JSON form of a build.
type buildResult struct {
	Image      string   `json:"image"`
	Digest     string   `json:"digest"`
	References []string `json:"references"`
	DepsLayer  string   `json:"depsLayer"`
	AppLayer   string   `json:"appLayer"`
	DepsCached bool     `json:"depsCached"`
	Packages   int      `json:"packages"`
}

func (o *buildOptions) run(cmd *cobra.Command, s *streams, dir string) error {
	if o.output != "text" && o.output != "json" {
		return usageError{fmt.Errorf("--output %q: want text or json", o.output)}
	}
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
	out, err := o.build(ctx, s, p, created)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "built %s in %s\n", out.Digest, time.Since(start).Round(time.Millisecond))
	if o.output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	_, err = fmt.Fprintln(s.Out, out.Image)
	return err
}

// build builds the plan's image and writes it to the outputs asked for: the registry (the
// default, and pyship's own registry when none is set), an OCI layout, a tarball. Image is the
// first reference written, by digest when pushed.
func (o *buildOptions) build(ctx context.Context, s *streams, p *plan.Plan, created time.Time) (buildResult, error) {
	display := progress.New(s.Err)
	defer display.Done()
	report := buildProgress(display)
	res, err := image.Build(ctx, p, image.Options{Env: s.environ(), Python: o.python, Base: o.base, Created: created, ToolVersion: version.String(), Progress: report})
	if err != nil {
		return buildResult{}, err
	}
	if o.tag != "" {
		res.Tag = o.tag
	}
	reg := o.registry
	if reg == "" {
		reg = p.Build.Registry
	}
	push := o.push || reg != "" || (o.ociLayout == "" && o.tarFile == "")
	if push && reg == "" {
		// pyship's own registry is the default: started when it is not running, as the
		// agent is by deploy.
		reg = registry.DefaultAddr
		if err := ensureRegistry(ctx, s); err != nil {
			return buildResult{}, err
		}
	}
	repo := strings.TrimSuffix(reg, "/") + "/" + res.Name
	out := buildResult{Digest: res.Digest.String(), DepsLayer: res.Deps.String(), AppLayer: res.App.String(), DepsCached: res.DepsCached, Packages: len(res.Packages)}
	if push {
		ref, err := image.Push(ctx, res, repo, image.PushOptions{Progress: report})
		if err != nil {
			return out, err
		}
		out.References = append(out.References, ref)
	}
	if o.ociLayout != "" {
		ref, err := image.WriteLayout(ctx, res, o.ociLayout)
		if err != nil {
			return out, err
		}
		report(image.Event{Step: "layout", Message: ref})
		out.References = append(out.References, ref)
	}
	if o.tarFile != "" {
		name := ""
		if reg != "" {
			name = repo
		}
		ref, err := image.WriteTar(ctx, res, o.tarFile, name)
		if err != nil {
			return out, err
		}
		report(image.Event{Step: "tar", Message: o.tarFile + " (" + ref + ")"})
		out.References = append(out.References, ref)
	}
	out.Image = out.References[0]
	return out, nil
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

// buildProgress shows build and push events: each finished step as a line, uploads in flight
// as a status line (live on a terminal, now and then in CI).
func buildProgress(d *progress.Display) image.Progress {
	return func(e image.Event) {
		if e.Total > 0 {
			d.Status(e.Step, "%-8s %s %s of %s (%d%%)", e.Step, e.Message, progress.Bytes(e.Bytes), progress.Bytes(e.Total), e.Bytes*100/e.Total)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%-8s", e.Step)
		if e.Warning {
			b.WriteString(" warning:")
		}
		if e.Digest != "" {
			d := e.Digest
			if len(d) > 19 {
				d = d[:19]
			}
			fmt.Fprintf(&b, " %s", d)
		}
		if e.Bytes > 0 {
			fmt.Fprintf(&b, " %s", progress.Bytes(e.Bytes))
		}
		if e.Cached {
			b.WriteString(" (cached)")
		}
		if e.Message != "" {
			b.WriteString(" " + e.Message)
		}
		d.Line("%s", b.String())
	}
}

// ensureRegistry starts pyship's registry on its default address when nothing answers there.
func ensureRegistry(ctx context.Context, s *streams) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if strings.HasSuffix(filepath.Base(exe), ".test") {
		// A Go test binary would run its tests, not `registry serve`.
		return fmt.Errorf("pyship's registry is not running on %s: start it with pyship registry serve", registry.DefaultAddr)
	}
	dir, err := registry.DefaultDir(s.getenv)
	if err != nil {
		return err
	}
	started, err := registry.Ensure(ctx, exe, registry.DefaultAddr, dir)
	if started {
		fmt.Fprintf(s.Err, "started pyship's registry on %s (content and log in %s; it keeps running)\n", registry.DefaultAddr, dir)
	}
	return err
}
