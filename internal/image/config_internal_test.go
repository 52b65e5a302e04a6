package image

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellJoinKeepsPortExpandable(t *testing.T) {
	argv := []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--access-logformat", "%(h)s it's", "app:app"}
	line := shellJoin(argv)
	// Run the line through a real sh and compare the argv it sees.
	out, err := exec.Command("sh", "-c", `PORT=1234; set -- `+line+`; for a; do printf '%s\n' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "gunicorn\n--bind\n0.0.0.0:1234\n--access-logformat\n%(h)s it's\napp:app\n"
	if string(out) != want {
		t.Errorf("sh saw\n%s\nwant\n%s(line %s)", out, want, line)
	}
}

func TestCheckPython(t *testing.T) {
	info := BaseInfo{Python: "/usr/local/bin/python3.12", PythonVersion: "3.12.4"}
	for _, tc := range []struct {
		want string
		ok   bool
	}{{"", true}, {"3.12", true}, {"3.12.4", true}, {"3.12.3", false}, {"3.11", false}} {
		err := checkPython(tc.want, info, "python:3.12-slim")
		if (err == nil) != tc.ok {
			t.Errorf("checkPython(%q): %v", tc.want, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--base") {
			t.Errorf("error %q does not say how to fix it", err)
		}
	}
}

func TestReadDpkg(t *testing.T) {
	status := "Package: libc6\nVersion: 2.36-9+deb12u4\n\nPackage: python3.11-minimal\nVersion: 3.11.2-6\n\nPackage: python3.11\nVersion: 3.11.2-6+deb12u1\n"
	py, glibc := readDpkg(strings.NewReader(status))
	if py != "3.11.2" || glibc != "2.36" {
		t.Errorf("readDpkg = %q, %q", py, glibc)
	}
}
