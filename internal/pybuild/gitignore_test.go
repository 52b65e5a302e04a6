package pybuild

import (
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestGitPattern(t *testing.T) {
	tests := []struct {
		pattern string
		path    string
		isDir   bool
		want    bool
	}{
		{"*.py", "a.py", false, true},
		{"*.py", "x/y/a.py", false, true},
		{"*.py", "a.pyc", false, false},
		{"/a.py", "x/a.py", false, false},
		{"/a.py", "a.py", false, true},
		{"x/a.py", "y/x/a.py", false, false},
		{"x/a.py", "x/a.py", false, true},
		{"build/", "build", true, true},
		{"build/", "build", false, false},
		{"build/", "src/build", true, true},
		{"**/foo", "foo", false, true},
		{"**/foo", "a/b/foo", false, true},
		{"**/foo/bar", "a/foo/bar", false, true},
		{"a/**/b", "a/b", false, true},
		{"a/**/b", "a/x/y/b", false, true},
		{"a/**/b", "ab", false, false},
		{"a/**", "a", true, false},
		{"a/**", "a/x/y", false, true},
		{"?.txt", "a.txt", false, true},
		{"?.txt", "ab.txt", false, false},
		{"[a-c].txt", "b.txt", false, true},
		{"[a-c].txt", "d.txt", false, false},
		{"[!a-c].txt", "d.txt", false, true},
		{"[!a-c].txt", "a.txt", false, false},
		{"[]].txt", "].txt", false, true},
		{"[.txt", "[.txt", false, true},
		{`a\*b`, "a*b", false, true},
		{`a\*b`, "axb", false, false},
		{`\!bang`, "!bang", false, true},
		{"a*", "a/b", false, false},
		{"*", "a/b", false, true},
		{"space\\ ", "space ", false, true},
		{"café.txt", "café.txt", false, true},
	}
	for _, tt := range tests {
		f := parseGitignore("", []string{tt.pattern})
		if len(f.patterns) != 1 {
			t.Errorf("pattern %q did not compile", tt.pattern)
			continue
		}
		_, got := f.match(tt.path, tt.isDir)
		if got != tt.want {
			t.Errorf("%q matches %q (dir %v) = %v, want %v (regexp %s)", tt.pattern, tt.path, tt.isDir, got, tt.want, f.patterns[0].re)
		}
	}
}

func TestGitPatternSkipsBlankAndComments(t *testing.T) {
	f := parseGitignore("", []string{"", "   ", "# comment", "!", "/", "\r"})
	if len(f.patterns) != 0 {
		t.Errorf("got %d patterns from blank and comment lines", len(f.patterns))
	}
}

// TestGitignoreAgainstGit compares AppFiles with what git itself leaves untracked and
// unignored in the same tree.
func TestGitignoreAgainstGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed to compare gitignore semantics: apt-get install git")
	}
	dir := t.TempDir()
	files := map[string]string{
		".gitignore":          "*.log\n!keep.log\n/build\n!build/keep.txt\ndist/\ndocs/**/*.tmp\n**/cache\nsecret[0-9].txt\nlogs/**\n!logs/important.txt\n/media/*.jpg\nnested/*\n!nested/kept/\n",
		"sub/.gitignore":      "*.csv\n!special.log\n/local.txt\n",
		"sub/deep/.gitignore": "!again.csv\n*.py\n",
	}
	for _, p := range []string{
		"main.py", "app.log", "keep.log", "sub/app.log", "sub/special.log",
		"build/x.py", "build/keep.txt", "sub/build/x.py", "dist/a.whl", "sub/dist/b.whl", "notdir/dist",
		"docs/a.tmp", "docs/x/y/b.tmp", "docs/c.md", "a/b/cache/z", "cache/y",
		"secret1.txt", "secretx.txt", "logs/a.txt", "logs/sub/b.txt", "logs/important.txt",
		"media/a.jpg", "media/sub/b.jpg", "data.csv", "sub/data.csv", "sub/deep/again.csv",
		"sub/deep/other.csv", "sub/deep/x.py", "sub/local.txt", "sub/deep/local.txt",
		"nested/a.txt", "nested/kept/b.txt", "nested/gone/c.txt",
	} {
		files[p] = "x"
	}
	for p, c := range files {
		writeFileForTest(t, dir, p, c)
	}
	run := func(args ...string) string {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("init", "-q")
	want := strings.Fields(run("ls-files", "--others", "--exclude-standard"))
	sort.Strings(want)
	got, err := AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppFiles differs from git:\n got  %v\n want %v", got, want)
	}
}
