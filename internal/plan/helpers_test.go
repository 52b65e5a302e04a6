package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/testsvc"
)

func analyze(t *testing.T, name string) *detect.Project {
	t.Helper()
	p, err := detect.Analyze(context.Background(), copyProject(t, name))
	if err != nil {
		t.Fatalf("Analyze(%s): %v", name, err)
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

// copyProject copies a project of ../detect/testdata (or ./testdata/projects) into a fresh
// temporary folder outside any git work tree and returns its path.
func copyProject(t *testing.T, name string) string {
	src := filepath.Join("..", "detect", "testdata", name)
	if _, err := os.Stat(src); err != nil {
		src = filepath.Join("testdata", "projects", name)
	}
	return testsvc.CopyTree(t, src)
}
