package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/pybuild"
)

// DepsPrefix is where the dependencies live inside the image (pip's --target folder).
const DepsPrefix = "/opt/pyship/deps"

// depsEpoch is the mtime of every file of the dependency layer: a constant, so that the layer
// is the same for every commit of the app and bytecode does not depend on it (hash-based .pyc).
var depsEpoch = time.Unix(315532800, 0).UTC() // 1980-01-01

// depsLayer installs pip's input (requirements, constraints, the source's pip options) for the
// base's platform and Python into a layer, or returns the cached one (cached true) for the same
// (pip's input, Python, platform, pip settings and configuration files).
func depsLayer(ctx context.Context, in pybuild.PipInput, base BaseInfo, o *Options) (l cachedLayer, pkgs []Package, cached bool, err error) {
	target := pybuild.Target{PythonVersion: base.MinorVersion(), Arch: archOf(Platform.Architecture), Glibc: base.Glibc}
	python, _ := o.interpreter(ctx)
	dir := ""
	if len(in.Args) > 0 {
		dir = in.Dir // relative paths in the options are the project's
	}
	key := hashKey("deps-v2", in.Requirements, in.Constraints, strings.Join(in.Args, "\x00"), dir,
		target.PythonVersion, target.Arch, target.Glibc, base.Python, pybuild.PipSettings(o.environ(), python), o.Python)
	cache := layerCache{dir: filepath.Join(o.CacheDir, "layers")}
	pkgFile := filepath.Join(o.CacheDir, "layers", "keys", key+".packages.json")
	if l, ok := cache.get(key); ok {
		if b, err := os.ReadFile(pkgFile); err == nil && json.Unmarshal(b, &pkgs) == nil {
			return l, pkgs, true, nil
		}
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return cachedLayer{}, nil, false, err
	}
	tmp, err := os.MkdirTemp(o.CacheDir, "deps-")
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	defer os.RemoveAll(tmp)
	dest := filepath.Join(tmp, "deps")
	start := time.Now()
	if err := pybuild.InstallDeps(ctx, python, in, dest, target, o.Env); err != nil {
		return cachedLayer{}, nil, false, err
	}
	if err := pybuild.FixScripts(filepath.Join(dest, "bin"), base.Python); err != nil {
		return cachedLayer{}, nil, false, err
	}
	entries, sources, err := treeEntries(dest, strings.TrimPrefix(DepsPrefix, "/"))
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	o.Progress.emit(Event{Step: "deps", Message: fmt.Sprintf("installed %d files with pip in %s", len(entries), time.Since(start).Round(time.Millisecond))})
	prefix := strings.TrimPrefix(DepsPrefix, "/")
	var jobs []pybuild.CompileJob
	var pycs []fileEntry
	for _, rel := range sources {
		pyc := pybuild.PycPath(rel, base.MinorVersion())
		out := filepath.Join(dest, filepath.FromSlash(pyc))
		jobs = append(jobs, pybuild.CompileJob{Src: filepath.Join(dest, rel), Out: out, Display: DepsPrefix + "/" + rel})
		pycs = append(pycs, fileEntry{Name: prefix + "/" + pyc, Src: out})
	}
	compiled, err := compile(ctx, o, base, jobs)
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	for _, e := range pycs {
		if _, err := os.Stat(e.Src); compiled && err == nil { // files that do not compile have none
			entries = append(entries, e)
		}
	}
	pkgs, err = distributions(dest)
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	l, err = cache.put(key, entries, depsEpoch)
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	b, err := json.Marshal(pkgs)
	if err != nil {
		return cachedLayer{}, nil, false, err
	}
	return l, pkgs, false, writeFileAtomic(pkgFile, b)
}

// treeEntries lists the files and symlinks under root as layer entries below prefix, and the
// .py sources among them (relative to root).
func treeEntries(root, prefix string) ([]fileEntry, []string, error) {
	var entries []fileEntry
	var sources []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		e := fileEntry{Name: prefix + "/" + rel, Src: p}
		if d.Type()&fs.ModeSymlink != 0 {
			if e.Link, err = os.Readlink(p); err != nil {
				return err
			}
		} else if strings.HasSuffix(rel, ".py") {
			sources = append(sources, rel)
		}
		entries = append(entries, e)
		return nil
	})
	return entries, sources, err
}

// distributions reads the name and version of every *.dist-info in dir.
func distributions(dir string) ([]Package, error) {
	ms, err := filepath.Glob(filepath.Join(dir, "*.dist-info", "METADATA"))
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for _, m := range ms {
		f, err := os.Open(m)
		if err != nil {
			return nil, err
		}
		p, ok := readMetadata(f)
		f.Close()
		if ok {
			pkgs = append(pkgs, p)
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

func archOf(goarch string) string {
	if goarch == "arm64" {
		return "aarch64"
	}
	return "x86_64"
}
