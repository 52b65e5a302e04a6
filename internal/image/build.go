package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
)

// Options adjust a build.
type Options struct {
	// CacheDir holds pulled bases, layers and their keys (DefaultCacheDir(Env) when empty).
	CacheDir string
	// Env is the environment (KEY=VALUE) pip and python run in, and that the dependency
	// layer's cache key reads pip's settings from (PIP_*, PIP_CONFIG_FILE, HOME, PATH); nil is
	// this process's. The CLI passes its own.
	Env []string
	// Python is the build host's interpreter with pip, used to install and byte-compile
	// ("python3" when empty). Bytecode is skipped, with a warning, when its version is not the image's.
	Python string
	// Base overrides the plan's base image.
	Base string
	// Created is the image's creation time; zero means the commit time of the project, or
	// the Unix epoch outside git. The CLI sets it from SOURCE_DATE_EPOCH.
	Created time.Time
	// ToolVersion names pyship in the SBOM.
	ToolVersion string
	// Progress receives events; nil is quiet.
	Progress Progress
	// Remote are extra options for pulling the base (a transport, a keychain).
	Remote []remote.Option

	warnBytecode *sync.Once
}

// Result is a built image.
type Result struct {
	Image  v1.Image
	Digest v1.Hash
	Base   *Base
	// Deps and App are the two layers pyship adds.
	Deps, App v1.Hash
	// DepsCached is true when no dependency was installed.
	DepsCached bool
	// Packages are the Python distributions of the image; SBOM is its SPDX 2.3 JSON document.
	Packages []Package
	SBOM     []byte
	// Name and Tag are the plan's name and version (or "latest"), used to name outputs.
	Name, Tag string
}

// DefaultCacheDir is $PYSHIP_CACHE/image, else $XDG_CACHE_HOME/pyship/image, else
// ~/.cache/pyship/image, the variables read from env (KEY=VALUE; nil is this process's).
func DefaultCacheDir(env []string) string {
	if env == nil {
		env = os.Environ()
	}
	if d := pybuild.Getenv(env, "PYSHIP_CACHE"); d != "" {
		return filepath.Join(d, "image")
	}
	if d := pybuild.Getenv(env, "XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "pyship", "image")
	}
	if h := pybuild.Getenv(env, "HOME"); h != "" {
		return filepath.Join(h, ".cache", "pyship", "image")
	}
	return filepath.Join(os.TempDir(), "pyship-cache", "image")
}

// environ is o.Env, or this process's environment when it is nil (what pip then inherits).
func (o *Options) environ() []string {
	if o.Env != nil {
		return o.Env
	}
	return os.Environ()
}

// DefaultBase is the base image for a Python version: python:VERSION-slim.
func DefaultBase(pythonVersion string) string {
	if pythonVersion == "" {
		pythonVersion = "3.12"
	}
	return "python:" + pythonVersion + "-slim"
}

// Build builds the image of p: the base, a dependency layer, an app layer and the config.
// The same inputs give the same digest.
func Build(ctx context.Context, p *plan.Plan, o Options) (*Result, error) {
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir(o.Env)
	}
	if o.Python == "" {
		o.Python = "python3"
	}
	o.warnBytecode = &sync.Once{}
	baseRef := o.Base
	if baseRef == "" {
		baseRef = p.Build.Base
	}
	if baseRef == "" {
		baseRef = DefaultBase(p.Python.Version)
	}
	start := time.Now()
	base, err := LoadBase(ctx, baseRef, o.CacheDir, o.Remote...)
	if err != nil {
		return nil, err
	}
	o.Progress.emit(Event{Step: "base", Message: fmt.Sprintf("%s (Python %s at %s) in %s", baseRef, base.Info.PythonVersion, base.Info.Python, time.Since(start).Round(time.Millisecond)), Digest: base.Digest.String()})
	warning, err := checkPython(p.Python.Version, base.Info, baseRef)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		o.Progress.emit(Event{Step: "base", Warning: true, Message: warning})
	}
	vcs := readVCS(ctx, p.Dir)
	created := o.Created
	if created.IsZero() {
		created = vcs.Time
	}
	created = created.UTC().Truncate(time.Second)

	// The two layers do not depend on each other: build them at once.
	pip := pybuild.PipInputFor(p.Dependencies)
	pip.Dir = p.Dir
	var (
		deps, app    cachedLayer
		pkgs         []Package
		cachedBefore bool
		depsErr      error
		wg           sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		if deps, pkgs, cachedBefore, depsErr = depsLayer(ctx, pip, base.Info, &o); depsErr == nil {
			o.Progress.emit(Event{Step: "deps", Digest: deps.meta.Digest, Bytes: deps.meta.Size, Cached: cachedBefore,
				Message: fmt.Sprintf("%d packages, %d files in %s", len(pkgs), deps.meta.Files, time.Since(start).Round(time.Millisecond))})
		}
	}()
	start = time.Now()
	app, err = appLayer(ctx, p, base.Info, created, &o)
	if err == nil {
		o.Progress.emit(Event{Step: "app", Digest: app.meta.Digest, Bytes: app.meta.Size, Message: fmt.Sprintf("%d files in %s", app.meta.Files, time.Since(start).Round(time.Millisecond))})
	}
	wg.Wait()
	if depsErr != nil {
		return nil, depsErr
	}
	if err != nil {
		return nil, err
	}

	all := append(append([]Package(nil), base.Info.Packages...), pkgs...)
	res := &Result{Base: base, DepsCached: cachedBefore, Packages: all, Name: p.Name, Tag: tagOf(p.Version)}
	img, err := mutate.Append(mutate.MediaType(base.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: deps, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "pyship build: dependencies (" + fmt.Sprint(len(pkgs)) + " packages)"}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "pyship build: app"}})
	if err != nil {
		return nil, err
	}
	img, err = withConfig(img, func(cf *v1.ConfigFile) error { return setConfig(cf, p, base, vcs, created, &o) })
	if err != nil {
		return nil, err
	}
	res.Image = img
	if res.Digest, err = img.Digest(); err != nil {
		return nil, err
	}
	res.Deps, _ = deps.Digest()
	res.App, _ = app.Digest()
	if res.SBOM, err = SPDX(p.Name, res.Digest, all, created, o.ToolVersion); err != nil {
		return nil, err
	}
	return res, nil
}

// checkPython compares the plan's Python ("3.11" or "3.11.4") with the base's. A different
// X.Y is an error: bytecode, wheels and the interpreter itself would not match. A different
// patch release of the same X.Y runs the same code and wheels, so it is only a warning.
func checkPython(want string, info BaseInfo, baseRef string) (warning string, err error) {
	if want == "" {
		return "", nil
	}
	if minor(want) != info.MinorVersion() {
		return "", fmt.Errorf("the base image %s has Python %s at %s but the app needs Python %s: pick a base with Python %s (--base or [build] base, e.g. %s) or change the app's Python ([build] python in pyship.toml)",
			baseRef, info.PythonVersion, info.Python, want, minor(want), DefaultBase(minor(want)))
	}
	if strings.Count(want, ".") >= 2 && strings.Count(info.PythonVersion, ".") >= 2 && want != info.PythonVersion {
		return fmt.Sprintf("the app asks for Python %s but the base image %s has %s; building with %s (set --base or [build] base to a %s image, or [build] python = %q, to silence this)",
			want, baseRef, info.PythonVersion, info.PythonVersion, want, minor(want)), nil
	}
	return "", nil
}

func tagOf(version string) string {
	if version == "" {
		return "latest"
	}
	var b strings.Builder
	for _, r := range version {
		if r == '+' {
			r = '-'
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "latest"
	}
	return b.String()
}

// withConfig is img as an OCI image whose config edit changed (on a copy).
func withConfig(img v1.Image, edit func(*v1.ConfigFile) error) (v1.Image, error) {
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	if err := edit(cf); err != nil {
		return nil, err
	}
	return mutate.ConfigFile(img, cf)
}
