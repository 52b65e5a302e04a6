package detect

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

// writeProject writes files (relative path → content) into a fresh folder named name.
func writeProject(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	named := map[string]string{}
	for rel, content := range files {
		named[name+"/"+rel] = content
	}
	return filepath.Join(testsvc.WriteTree(t, named), name)
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
