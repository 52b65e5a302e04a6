package pybuild_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/pybuild"
)

// writeTree creates files (slash paths, contents) under a new temporary folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// assertFiles checks AppFiles' result: every path of keep is listed, none of drop is.
func assertFiles(t *testing.T, got, keep, drop []string) {
	t.Helper()
	listed := map[string]bool{}
	for _, f := range got {
		listed[f] = true
	}
	for _, f := range keep {
		if !listed[f] {
			t.Errorf("%s is missing from AppFiles", f)
		}
	}
	for _, f := range drop {
		if listed[f] {
			t.Errorf("%s is listed by AppFiles but must be left out", f)
		}
	}
}

func TestAppFilesNeverShips(t *testing.T) {
	keep := []string{
		"main.py", "pkg/__init__.py", "env/app.py", "environment.py",
		".env.example", ".env.sample", ".env.template", "config/.env.example", "keys.py", "monkey.txt",
	}
	drop := []string{
		".git/config", ".git/HEAD", "sub/.git", ".hg/store", ".svn/entries",
		".venv/bin/python", "venv/lib/site.py", "myenv/pyvenv.cfg", "myenv/lib/x.py",
		"__pycache__/main.cpython-311.pyc", "pkg/__pycache__/x.pyc", "old.pyc", "old.pyo",
		".mypy_cache/x.json", ".pytest_cache/v", ".ruff_cache/c", ".tox/log", ".nox/log",
		"node_modules/left-pad/index.js", ".idea/workspace.xml", ".vscode/settings.json",
		".DS_Store", "pkg/.DS_Store", ".env", "config/.env", ".env.local", ".env.production",
		"cert.pem", "tls/server.key", "id_rsa", "id_rsa.pub", "id_ed25519", ".ssh/id_ecdsa",
		".netrc", ".pypirc", ".pyship/state.json",
	}
	tree := map[string]string{}
	for _, f := range append(append([]string{}, keep...), drop...) {
		tree[f] = "x"
	}
	// A .gitignore cannot bring any of them back.
	tree[".gitignore"] = "!.env\n!*.pem\n!.venv/\n"
	dir := writeTree(t, tree)
	got, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFiles(t, got, append(keep, ".gitignore"), drop)
	if len(got) != len(keep)+1 {
		t.Errorf("AppFiles = %v, want exactly %v and .gitignore", got, keep)
	}
}

func TestAppFilesGitignore(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".gitignore": strings.Join([]string{
			"# a comment",
			"",
			"*.log",
			"!keep.log",
			"/build",
			"!build/keep.txt", // cannot re-include: the parent folder is ignored
			"dist/",
			"docs/**/*.tmp",
			"**/cache",
			"secret[0-9].txt",
			"name?.cfg",
			`\#hash.txt`,
			"trailing.txt   ",
			"logs/**",
			"!logs/important.txt",
			"/media/*.jpg",
		}, "\n") + "\n",
		"sub/.gitignore":      "*.csv\n!special.log\n/local.txt\n",
		"sub/deep/.gitignore": "!again.csv\n",

		"main.py": "", "app.log": "", "keep.log": "", "sub/app.log": "", "sub/special.log": "",
		"build/x.py": "", "build/keep.txt": "", "sub/build/x.py": "",
		"dist/a.whl": "", "sub/dist/b.whl": "", "notdir/dist": "",
		"docs/a.tmp": "", "docs/x/y/b.tmp": "", "docs/c.md": "", "other/a.tmp": "",
		"a/b/cache/z": "", "cache/y": "",
		"secret1.txt": "", "secretx.txt": "", "name1.cfg": "", "name12.cfg": "",
		"#hash.txt": "", "trailing.txt": "",
		"logs/a.txt": "", "logs/sub/b.txt": "", "logs/important.txt": "",
		"media/a.jpg": "", "media/sub/b.jpg": "",
		"data.csv": "", "sub/data.csv": "", "sub/deep/again.csv": "", "sub/deep/other.csv": "",
		"sub/local.txt": "", "sub/deep/local.txt": "",
	})
	got, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFiles(t, got,
		[]string{"main.py", "keep.log", "sub/special.log", "sub/build/x.py", "notdir/dist", "docs/c.md",
			"other/a.tmp", "secretx.txt", "name12.cfg", "logs/important.txt", "media/sub/b.jpg",
			"data.csv", "sub/deep/again.csv", "sub/deep/local.txt", ".gitignore", "sub/.gitignore"},
		[]string{"app.log", "sub/app.log", "build/x.py", "build/keep.txt", "dist/a.whl", "sub/dist/b.whl",
			"docs/a.tmp", "docs/x/y/b.tmp", "a/b/cache/z", "cache/y", "secret1.txt", "name1.cfg",
			"#hash.txt", "trailing.txt", "logs/a.txt", "logs/sub/b.txt", "media/a.jpg",
			"sub/data.csv", "sub/deep/other.csv", "sub/local.txt"})
}

func TestAppFilesDockerignore(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".dockerignore": "# docker\ntests\n*.md\n!README.md\ninternal\n!internal/public.txt\n**/*.bak\n/Makefile\n./scratch\n",
		"main.py":       "", "tests/test_main.py": "", "sub/tests/t.py": "",
		"NOTES.md": "", "README.md": "", "sub/notes.md": "",
		"internal/secret.txt": "", "internal/public.txt": "", "internal/deeper/x.txt": "",
		"a.bak": "", "x/y.bak": "", "Makefile": "", "scratch/s.py": "",
	})
	got, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFiles(t, got,
		[]string{"main.py", "sub/tests/t.py", "README.md", "sub/notes.md", "internal/public.txt", ".dockerignore"},
		[]string{"tests/test_main.py", "NOTES.md", "internal/secret.txt", "internal/deeper/x.txt",
			"a.bak", "x/y.bak", "Makefile", "scratch/s.py"})
}

func TestAppFilesExcludeAndData(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"main.py": "", "data/visits.txt": "", "data/images/a.png": "", "pkg/data/schema.json": "",
		"var/uploads/u.bin": "", "var/other.txt": "", "db.sqlite3": "", "pkg/db.sqlite3": "",
		"odd[1]/x": "", "odd1/y": "",
	})
	// Persistent data is often a link to a volume.
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "volume")); err != nil {
		t.Fatal(err)
	}
	exclude := append([]string{"*.sqlite3"}, pybuild.DataExcludes("data", "./var/uploads/", "odd[1]", "volume/", "", ".", "../up", "a/../..")...)
	got, err := pybuild.AppFiles(dir, exclude)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"main.py", "odd1/y", "pkg/data/schema.json", "var/other.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppFiles(%q) = %v, want %v", exclude, got, want)
	}
}

func TestDataExcludes(t *testing.T) {
	got := pybuild.DataExcludes("data", "./var/uploads/", "/abs/", "", ".", "../x", "a b", "..data")
	want := []string{"/data", "/var/uploads", "/abs", `/a\ b`, "/..data"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DataExcludes = %q, want %q", got, want)
	}
}

func TestAppFilesSymlinks(t *testing.T) {
	outside := writeTree(t, map[string]string{"secret.txt": "outside"})
	dir := writeTree(t, map[string]string{"main.py": "", "real/file.txt": ""})
	for link, target := range map[string]string{"outside": outside, "inside": "real", "file-link.txt": "real/file.txt", "dangling": "nowhere", "venv": outside} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// A .gitignore "dir/" pattern matches folders, not links to them (as in git).
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("inside/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".gitignore", "dangling", "file-link.txt", "inside", "main.py", "outside", "real/file.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppFiles = %v, want %v", got, want)
	}
}

func TestAppFilesErrors(t *testing.T) {
	if _, err := pybuild.AppFiles(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Error("AppFiles of a missing folder succeeded")
	}
	dir := writeTree(t, map[string]string{"main.py": "", ".dockerignore": "!\n"})
	if _, err := pybuild.AppFiles(dir, nil); err == nil || !strings.Contains(err.Error(), ".dockerignore") {
		t.Errorf("AppFiles with a bad .dockerignore = %v, want an error naming it", err)
	}
	file := filepath.Join(dir, "main.py")
	if _, err := pybuild.AppFiles(file, nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("AppFiles of a file = %v, want an error saying it is not a folder", err)
	}
}
