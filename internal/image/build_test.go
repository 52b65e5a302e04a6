package image_test

import (
	"testing"
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
