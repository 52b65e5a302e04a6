package image

import (
	"fmt"
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
		want          string
		ok, warns     bool
		wantInMessage string
	}{
		{"", true, false, ""},
		{"3.12", true, false, ""},
		{"3.12.4", true, false, ""},
		{"3.12.3", true, true, "3.12.3"},
		{"3.11", false, false, "--base"},
		{"3.11.4", false, false, "[build] python"},
	} {
		warning, err := checkPython(tc.want, info, "python:3.12-slim")
		if (err == nil) != tc.ok || (warning != "") != tc.warns {
			t.Errorf("checkPython(%q) = %q, %v; want ok %v, a warning %v", tc.want, warning, err, tc.ok, tc.warns)
		}
		if msg := warning + fmt.Sprint(err); !strings.Contains(msg, tc.wantInMessage) {
			t.Errorf("checkPython(%q) says %q, want it to mention %q", tc.want, msg, tc.wantInMessage)
		}
	}
	// A base that gives only X.Y (no PYTHON_VERSION, no dpkg) matches any patch of it.
	if w, err := checkPython("3.12.1", BaseInfo{Python: "/usr/bin/python3.12", PythonVersion: "3.12"}, "b"); w != "" || err != nil {
		t.Errorf("a base of unknown patch: %q, %v", w, err)
	}
}

func TestReadDpkg(t *testing.T) {
	status := "Package: libc6\nVersion: 2.36-9+deb12u4\n\nPackage: python3.11-minimal\nVersion: 3.11.2-6\n\nPackage: python3.11\nVersion: 3.11.2-6+deb12u1\n"
	py, glibc := readDpkg(strings.NewReader(status))
	if py != "3.11.2" || glibc != "2.36" {
		t.Errorf("readDpkg = %q, %q", py, glibc)
	}
}

func TestWithInterpreterUsesTheBasesPython(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"python main.py", "/usr/bin/python3.11 main.py"},
		{"python3 -m app", "/usr/bin/python3.11 -m app"},
		{"python3.11 worker.py", "/usr/bin/python3.11 worker.py"},
		{"python3.12 worker.py", "python3.12 worker.py"}, // not the base's: left for the user to see fail
		{"gunicorn app:app", "gunicorn app:app"},
	} {
		if got := strings.Join(withInterpreter(strings.Fields(tc.in), "/usr/bin/python3.11", "3.11"), " "); got != tc.want {
			t.Errorf("withInterpreter(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
