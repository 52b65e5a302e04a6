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

// wantOneWarning checks that exactly one of the warnings mentioning about contains want, or,
// when want is "", that none mentions about.
func wantOneWarning(t *testing.T, warnings []string, about, want string) {
	t.Helper()
	var got []string
	for _, w := range warnings {
		if strings.Contains(w, about) {
			got = append(got, w)
		}
	}
	switch {
	case want == "" && len(got) > 0:
		t.Errorf("unexpected warnings %q", got)
	case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
		t.Errorf("warnings = %q, want one containing %q", got, want)
	}
}
