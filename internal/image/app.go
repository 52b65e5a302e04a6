package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
)

// AppDir is where the project's files live inside the image (the WORKDIR).
const AppDir = "/app"

// DataDirs are the app's persistent data folders inside the image ("/app/data"): empty
// folders owned by the app's user, declared as volumes.
func DataDirs(p *plan.Plan) []string {
	var dirs []string
	for _, d := range p.Data {
		if !d.Persistent {
			continue
		}
		rel := path.Clean(strings.Trim(filepath.ToSlash(d.Path), "/"))
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		dirs = append(dirs, AppDir+"/"+rel)
	}
	sort.Strings(dirs)
	return dirs
}

// appLayer puts the app's files (and their hash-based bytecode when the build host's Python
// matches the image's) under AppDir, with every mtime set to mtime, and the persistent data
// folders as empty folders the app's user can write.
func appLayer(ctx context.Context, p *plan.Plan, base BaseInfo, mtime time.Time, o *Options) (cachedLayer, error) {
	files, err := pybuild.ShipFiles(p)
	if err != nil {
		return cachedLayer{}, fmt.Errorf("listing the app's files in %s: %w", p.Dir, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "app-v3\n%d\n%s\n%s\n", mtime.Unix(), base.MinorVersion(), o.Python)
	var entries []fileEntry
	for _, d := range DataDirs(p) {
		fmt.Fprintf(h, "data\x00%s\x00", d)
		entries = append(entries, fileEntry{Name: strings.TrimPrefix(d, "/"), Dir: true, Owner: UID})
	}
	var sources []string
	for _, rel := range files {
		src := filepath.Join(p.Dir, filepath.FromSlash(rel))
		if err := hashFile(h, rel, src); err != nil {
			return cachedLayer{}, err
		}
		entries = append(entries, fileEntry{Name: strings.TrimPrefix(AppDir, "/") + "/" + rel, Src: src})
		if strings.HasSuffix(rel, ".py") {
			sources = append(sources, rel)
		}
	}
	key := hex.EncodeToString(h.Sum(nil))[:32]
	cache := layerCache{dir: filepath.Join(o.CacheDir, "layers")}
	if l, ok := cache.get(key); ok {
		return l, nil
	}
	if len(sources) > 0 {
		// An app that does not compile is refused rather than shipped without its bytecode
		// (the CLI runs the same check first and prints each error).
		exe, _ := o.interpreter(ctx)
		errs, err := pybuild.Check(ctx, exe, p.Dir, sources)
		if err != nil {
			return cachedLayer{}, err
		}
		if len(errs) > 0 {
			return cachedLayer{}, pybuild.SyntaxErrors(errs)
		}
		tmp, err := os.MkdirTemp(o.CacheDir, "app-")
		if err != nil {
			return cachedLayer{}, err
		}
		defer os.RemoveAll(tmp)
		var jobs []pybuild.CompileJob
		for _, rel := range sources {
			pyc := pybuild.PycPath(rel, base.MinorVersion())
			out := filepath.Join(tmp, filepath.FromSlash(pyc))
			jobs = append(jobs, pybuild.CompileJob{Src: filepath.Join(p.Dir, filepath.FromSlash(rel)), Out: out, Display: AppDir + "/" + rel})
		}
		if _, err := compile(ctx, o, base, jobs); err != nil {
			return cachedLayer{}, err
		}
		for _, rel := range sources {
			pyc := pybuild.PycPath(rel, base.MinorVersion())
			out := filepath.Join(tmp, filepath.FromSlash(pyc))
			if _, err := os.Stat(out); err == nil { // none when the host's Python is not the image's
				entries = append(entries, fileEntry{Name: strings.TrimPrefix(AppDir, "/") + "/" + pyc, Src: out})
			}
		}
	}
	return cache.put(key, entries, mtime)
}

func hashFile(h io.Writer, rel, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%o\x00%d\x00", rel, fi.Mode()&0o111, fi.Size())
	_, err = io.Copy(h, f)
	return err
}
