package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/pybuild"
)

// The Dockerfile's cleanup leaves exactly the files pybuild.AppFiles ships: one list of
// never-ship rules serves both. Run with the real find(1) on a tree of every case.
func TestDockerfileCleanupMatchesAppFiles(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"app.py", "pkg/mod.py", ".dockerignore", ".gitignore", ".env.example", "config/settings.ini",
		".env", ".env.production", ".netrc", ".pypirc", "id_rsa", "id_rsa.pub", "keys/id_ed25519", "certs/tls.pem", "certs/tls.key",
		"old.pyc", "pkg/__pycache__/mod.cpython-311.pyc", ".git/config", ".venv/bin/python", "venv/lib/x.py",
		"env311/pyvenv.cfg", "env311/lib/site.py", ".mypy_cache/x", ".pytest_cache/x", ".tox/x", "node_modules/x/index.js",
		".idea/workspace.xml", ".vscode/settings.json", ".pyship/state.json", ".DS_Store", "sub/.DS_Store",
		"notes/venv", // a file named like a never-ship folder ships
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/opt/venv", filepath.Join(dir, "pkg", ".venv")); err != nil {
		t.Fatal(err)
	}
	want, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	script := "find " + dir + " -mindepth 1 \\( " + strings.ReplaceAll(neverShipFind(pybuild.NeverShip()), "\\\n", "") + " \\) -prune -exec rm -rf {} +"
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's cleanup: %v\n%s\n%s", err, out, script)
	}
	var got []string
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the Dockerfile's cleanup:\n%s\nAppFiles ships:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range []string{".dockerignore", ".gitignore", "app.py", "notes/venv"} {
		if !strings.Contains("\n"+strings.Join(want, "\n")+"\n", "\n"+f+"\n") {
			t.Errorf("AppFiles leaves out %s", f)
		}
	}
}
