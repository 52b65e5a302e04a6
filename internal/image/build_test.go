package image_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/pybuild"
)

func TestBuildIsReproducible(t *testing.T) {
	dir := copyApp(t, "flask")
	p := appPlan(t, "flask", dir)
	first := build(t, p, "")
	second := build(t, p, "")
	if first.Digest != second.Digest {
		t.Errorf("two builds of the same input: %s then %s", first.Digest, second.Digest)
	}
	if !second.DepsCached {
		t.Errorf("the second build reinstalled the dependencies")
	}
	// A cold cache gives the same bytes too.
	third := build(t, p, t.TempDir())
	if third.DepsCached {
		t.Errorf("a build with an empty cache reported cached dependencies")
	}
	if third.Digest != first.Digest {
		t.Errorf("a build with an empty cache gave %s, want %s (deps %s vs %s, app %s vs %s)", third.Digest, first.Digest, third.Deps, first.Deps, third.App, first.App)
	}
}

// The library refuses an app that does not compile instead of shipping it without bytecode.
func TestBuildRefusesSyntaxErrors(t *testing.T) {
	dir := copyApp(t, "worker")
	if err := os.WriteFile(filepath.Join(dir, "broken.py"), []byte("def f(:\n    pass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := env(t)
	_, err := image.Build(ctxT(t), appPlan(t, "worker", dir), image.Options{CacheDir: e.Cache, Env: e.Env, Python: e.Python, Base: e.Base})
	var se pybuild.SyntaxErrors
	if !errors.As(err, &se) || len(se) != 1 || se[0].String() != "broken.py:1:7: invalid syntax" {
		t.Fatalf("building an app with a syntax error: %v, want the error broken.py:1:7", err)
	}
}
