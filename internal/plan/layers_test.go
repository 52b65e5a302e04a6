package plan

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

// Detection is read once, by the plan: the resolved server command and everything else the
// targets need are carried in it, so no other package (kube, the local target, the CLI) calls
// back into detect and risks a second answer (issue 14: one parser per format).
func TestOnlyThePlanReadsDetection(t *testing.T) {
	root := filepath.Join(testsvc.RepoRoot(t), "internal")
	const detect = "github.com/pyship/pyship/internal/detect"
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if pkg := filepath.Dir(rel); pkg == "plan" || pkg == "detect" {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == detect {
				t.Errorf("%s imports %s: take what it needs from the plan", rel, detect)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
