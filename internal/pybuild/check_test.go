package pybuild_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
)

// testPython is the host interpreter scripts/services provides.
func testPython(t *testing.T) string {
	t.Helper()
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	if py == "" {
		t.Fatal("scripts/services start python exported no PYSHIP_TEST_PYTHON")
	}
	return py
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestCheckBrokenProject(t *testing.T) {
	py := testPython(t)
	ctx := testCtx(t)
	_, version, err := pybuild.FindPython(ctx, "", []string{"PYSHIP_PYTHON=" + py})
	if err != nil {
		t.Fatal(err)
	}
	dir := copyTree(t, "testdata/broken")
	// Files that cannot be read: a dangling link and a folder named like a module.
	if err := os.Symlink("nowhere.py", filepath.Join(dir, "dangling.py")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.py"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "folder.py", "README.md")

	got, err := pybuild.Check(ctx, py, dir, files)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		file      string
		line, col int
		msg       string
	}
	wants := []want{
		{"bad_cookie.py", 1, 0, "unknown encoding: foobar"},
		{"bad_indent.py", 2, 1, "expected an indented block"},
		{"dangling.py", 0, 0, "cannot read the file: no such file or directory"},
		{"folder.py", 0, 0, "cannot read the file: is a directory"},
		{"latin1.py", 2, 6, "non-UTF-8 byte 0xe9 and no encoding declared"},
		{"missing_colon.py", 1, 19, "expected ':'"},
	}
	if pybuild.MajorMinor(version) < "3.12" { // string order is fine for 3.1x
		wants = append(wants, want{"newer.py", 1, 6, "invalid syntax"})
	}
	wants = append(wants,
		want{"null_byte.py", 2, 6, "source code cannot contain null bytes"},
		want{"pkg/py2.py", 1, 1, "Missing parentheses in call to 'print'"},
		want{"tabs.py", 3, 1, "inconsistent use of tabs and spaces in indentation"},
		want{"unterminated.py", 2, 5, "unterminated string literal"},
		want{"wrong_encoding.py", 3, 12, "byte 0xc3 is not valid ascii"},
	)
	if len(got) != len(wants) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(wants), joinErrs(got))
	}
	for i, w := range wants {
		g := got[i]
		if g.File != w.file || g.Line != w.line || g.Col != w.col || !strings.Contains(g.Msg, w.msg) {
			t.Errorf("error %d = %s, want %s:%d:%d: ...%s...", i, g, w.file, w.line, w.col, w.msg)
		}
	}
	if s := got[1].String(); s != "bad_indent.py:2:1: "+got[1].Msg {
		t.Errorf("String() = %q", s)
	}
	assertNoPycache(t, dir)
}

func TestCheckCleanProject(t *testing.T) {
	py := testPython(t)
	dir := copyTree(t, "testdata/clean")
	files, err := pybuild.AppFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("AppFiles = %v, want the 5 files of testdata/clean", files)
	}
	got, err := pybuild.Check(testCtx(t), py, dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("clean project has errors:\n%s", joinErrs(got))
	}
	assertNoPycache(t, dir)
}

// TestCheckManyFilesOneProcess checks 2,000 files and counts the interpreter starts through a
// wrapper script; errors planted in the first, middle and last files prove every file was read.
func TestCheckManyFilesOneProcess(t *testing.T) {
	py := testPython(t)
	dir := t.TempDir()
	var files []string
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("pkg%02d/mod%04d.py", i/100, i)
		src := fmt.Sprintf("def f%d(x):\n    return x + %d\n", i, i)
		if i == 0 || i == 1000 || i == 1999 {
			src = "def broken(:\n    pass\n"
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	bin := t.TempDir()
	count := filepath.Join(bin, "starts")
	wrapper := filepath.Join(bin, "python")
	script := fmt.Sprintf("#!/bin/sh\necho start >> %s\nexec %s \"$@\"\n", strconv.Quote(count), strconv.Quote(py))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := pybuild.Check(testCtx(t), wrapper, dir, files)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "start"); n != 1 {
		t.Errorf("python started %d times for 2,000 files, want 1", n)
	}
	wantFiles := []string{"pkg00/mod0000.py", "pkg10/mod1000.py", "pkg19/mod1999.py"}
	if len(got) != len(wantFiles) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(wantFiles), joinErrs(got))
	}
	for i, f := range wantFiles {
		if got[i].File != f || got[i].Line != 1 {
			t.Errorf("error %d = %s, want %s:1:...", i, got[i], f)
		}
	}
}

func TestCheckNoPythonFiles(t *testing.T) {
	got, err := pybuild.Check(testCtx(t), "/nonexistent/python", t.TempDir(), []string{"README.md"})
	if err != nil || got != nil {
		t.Fatalf("Check without .py files = %v, %v; want nothing and no interpreter run", got, err)
	}
}

func TestCheckBadInterpreter(t *testing.T) {
	_, err := pybuild.Check(testCtx(t), "/nonexistent/python3", t.TempDir(), []string{"a.py"})
	if err == nil {
		t.Fatal("Check with a missing interpreter succeeded")
	}
	for _, s := range []string{"/nonexistent/python3", "PYSHIP_PYTHON", "apt-get install python3"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestCheckCancelled(t *testing.T) {
	py := testPython(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pybuild.Check(ctx, py, t.TempDir(), []string{"a.py"})
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("Check with a cancelled context = %v, want a context error", err)
	}
}

func assertNoPycache(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (d.Name() == "__pycache__" || strings.HasSuffix(p, ".pyc")) {
			t.Errorf("check wrote %s into the project", p)
		}
		return nil
	})
}

func joinErrs(errs []pybuild.SyntaxError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

func copyTree(t *testing.T, src string) string { return testsvc.CopyTree(t, src) }
