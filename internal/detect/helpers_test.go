package detect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

// writeProject writes files (relative path → content) into a fresh folder named name.
func writeProject(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func analyze(t *testing.T, dir string) *Project {
	t.Helper()
	p, err := Analyze(context.Background(), dir)
	if err != nil {
		t.Fatalf("Analyze(%s): %v", filepath.Base(dir), err)
	}
	return p
}

func hasWarning(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func reqSpecs(rs []Requirement) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Spec)
	}
	return out
}

// copyProject copies testdata/name into a fresh temporary folder (outside any git work tree)
// and returns its path.
func copyProject(t *testing.T, name string) string {
	return testsvc.CopyTree(t, filepath.Join("testdata", name))
}
