package platform

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/registry"
	"github.com/pyship/pyship/internal/version"
)

// BuildOptions say how to build the app's image and where to write it.
type BuildOptions struct {
	// Python is the build host's interpreter with pip.
	Python, Base string
	// Registry (and path) to push to (default the plan's [build] registry); Tag overrides
	// the image's tag.
	Registry, Tag string
	// Push pushes (the default when a registry is set or no other output is asked for).
	Push bool
	// OCILayout and TarFile also write the image there.
	OCILayout, TarFile string
	// Created is the images' creation time (SOURCE_DATE_EPOCH; zero: the commit time).
	Created time.Time
	// Progress receives the build's and push's progress; nil discards it.
	Progress io.Writer
	// Env is the environment of the build (pip's, the registry's folder); nil: the process's.
	Env []string
}

// Image is a built image: `pyship build --output json` prints it.
type Image struct {
	// Image is the first reference written, by digest when pushed.
	Image      string   `json:"image"`
	Digest     string   `json:"digest"`
	References []string `json:"references"`
	DepsLayer  string   `json:"depsLayer"`
	AppLayer   string   `json:"appLayer"`
	DepsCached bool     `json:"depsCached"`
	Packages   int      `json:"packages"`
}

// BuildImage builds the plan's image and writes it to the outputs asked for: the registry (the
// default, and pyship's own registry, started when needed, when none is set), an OCI layout,
// a tarball.
func BuildImage(ctx context.Context, p *plan.Plan, o BuildOptions) (Image, error) {
	display := progress.New(orDiscard(o.Progress))
	defer display.Done()
	report := ImageProgress(display)
	res, err := image.Build(ctx, p, image.Options{Env: o.Env, Python: o.Python, Base: o.Base, Created: o.Created, ToolVersion: version.String(), Progress: report})
	if err != nil {
		return Image{}, err
	}
	if o.Tag != "" {
		res.Tag = o.Tag
	}
	reg := o.Registry
	if reg == "" {
		reg = p.Build.Registry
	}
	push := o.Push || reg != "" || (o.OCILayout == "" && o.TarFile == "")
	if push && reg == "" {
		// pyship's own registry is the default: started when it is not running, as the
		// agent is by deploy.
		reg = registry.DefaultAddr
		if err := EnsureRegistry(ctx, o.Progress, o.Env); err != nil {
			return Image{}, err
		}
	}
	repo := strings.TrimSuffix(reg, "/") + "/" + res.Name
	out := Image{Digest: res.Digest.String(), DepsLayer: res.Deps.String(), AppLayer: res.App.String(), DepsCached: res.DepsCached, Packages: len(res.Packages)}
	if push {
		ref, err := image.Push(ctx, res, repo, image.PushOptions{Progress: report})
		if err != nil {
			return out, err
		}
		out.References = append(out.References, ref)
	}
	if o.OCILayout != "" {
		ref, err := image.WriteLayout(ctx, res, o.OCILayout)
		if err != nil {
			return out, err
		}
		report(image.Event{Step: "layout", Message: ref})
		out.References = append(out.References, ref)
	}
	if o.TarFile != "" {
		name := ""
		if reg != "" {
			name = repo
		}
		ref, err := image.WriteTar(ctx, res, o.TarFile, name)
		if err != nil {
			return out, err
		}
		report(image.Event{Step: "tar", Message: o.TarFile + " (" + ref + ")"})
		out.References = append(out.References, ref)
	}
	out.Image = out.References[0]
	return out, nil
}

// ImageProgress shows build and push events on d: each finished step as a line, uploads in
// flight as a status line (live on a terminal, now and then in CI).
func ImageProgress(d *progress.Display) image.Progress {
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

// EnsureRegistry starts pyship's registry on its default address when nothing answers there,
// and says so on w.
func EnsureRegistry(ctx context.Context, w io.Writer, env []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if strings.HasSuffix(filepath.Base(exe), ".test") {
		// A Go test binary would run its tests, not `registry serve`.
		return fmt.Errorf("pyship's registry is not running on %s: start it with pyship registry serve", registry.DefaultAddr)
	}
	dir, err := registry.DefaultDir(Getenv(env))
	if err != nil {
		return err
	}
	started, err := registry.Ensure(ctx, exe, registry.DefaultAddr, dir, env)
	if started {
		fmt.Fprintf(orDiscard(w), "started pyship's registry on %s (content and log in %s; it keeps running)\n", registry.DefaultAddr, dir)
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Getenv reads env (the process's environment when nil).
func Getenv(env []string) func(string) string {
	if env == nil {
		return os.Getenv
	}
	return func(k string) string { return pybuild.Getenv(env, k) }
}
