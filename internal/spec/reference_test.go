package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsCurrent fails when docs/spec.md is not the output of Reference.
// Regenerate it with PYSHIP_UPDATE_DOCS=1 go test ./internal/spec/.
func TestDocsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "spec.md")
	want := Reference()
	if os.Getenv("PYSHIP_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (generate it with PYSHIP_UPDATE_DOCS=1 go test ./internal/spec/)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: regenerate it with PYSHIP_UPDATE_DOCS=1 go test ./internal/spec/", path)
	}
}

func TestReferenceCoversEveryKey(t *testing.T) {
	ref := string(Reference())
	for _, f := range fields() {
		heading := "### `" + f.path + "`"
		if f.kind == kindTable {
			heading = "## `[" + f.path + "]`"
		}
		if f.kind == kindTables {
			heading = "## `[[" + f.path + "]]`"
		}
		if !strings.Contains(ref, heading) {
			t.Errorf("reference has no heading %q", heading)
		}
	}
	for _, want := range []string{
		"- Default: 8000",                         // run.port
		"- Allowed: one of \"web\" or \"worker\"", // run.kind
		"- Allowed: 1 to 65535",
		"- Default: inferred: http for web apps, process for workers",
		"[deploy.canary]\nsteps = [10, 50, 100]",
		"## `[env]`",
	} {
		if !strings.Contains(ref, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
}
