package pybuild_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
)

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindPythonEnv(t *testing.T) {
	t.Parallel()
	py := testPython(t)
	path, version, err := pybuild.FindPython(testCtx(t), "3.99", []string{"PYSHIP_PYTHON=" + py})
	if err != nil {
		t.Fatal(err)
	}
	if path != py || !strings.HasPrefix(version, "3.") {
		t.Errorf("FindPython = %s, %s; want %s and a 3.x version", path, version, py)
	}

	if _, _, err := pybuild.FindPython(testCtx(t), "", []string{"PYSHIP_PYTHON=/nonexistent/python3"}); err == nil || !strings.Contains(err.Error(), "PYSHIP_PYTHON=/nonexistent/python3") {
		t.Errorf("FindPython with a bad PYSHIP_PYTHON = %v, want an error naming it", err)
	}
}

func TestFindPythonPath(t *testing.T) {
	t.Parallel()
	// The real executable, not a pyenv shim: the shim needs pyenv on PATH.
	out, err := exec.Command(testPython(t), "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatal(err)
	}
	py := strings.TrimSpace(string(out))
	bin := t.TempDir()
	// python3.11 is a working interpreter; python3.12 fails like a pyenv shim for an unselected
	// version; python3 reports a fixed version so the fallback is recognisable.
	writeScript(t, filepath.Join(bin, "python3.11"), `exec "`+py+`" "$@"`)
	writeScript(t, filepath.Join(bin, "python3.12"), `echo "pyenv: python3.12: command not found" >&2; exit 127`)
	writeScript(t, filepath.Join(bin, "python3"), `echo 3.10.99`)
	// A PYSHIP_PYTHON earlier in the environment is unset by the later empty one.
	env := []string{"PYSHIP_PYTHON=/nonexistent/python3", "PATH=relative:" + bin, "PYSHIP_PYTHON="}
	ctx := testCtx(t)

	tests := []struct{ want, path, version string }{
		{"3.11", "python3.11", ""},
		{"3.11.4", "python3.11", ""},
		{"3.12", "python3", "3.10.99"},
		{"", "python3", "3.10.99"},
	}
	for _, tt := range tests {
		path, version, err := pybuild.FindPython(ctx, tt.want, env)
		if err != nil {
			t.Errorf("FindPython(%q): %v", tt.want, err)
			continue
		}
		if path != filepath.Join(bin, tt.path) {
			t.Errorf("FindPython(%q) path = %s, want %s", tt.want, path, tt.path)
		}
		if tt.version != "" && version != tt.version {
			t.Errorf("FindPython(%q) version = %s, want %s", tt.want, version, tt.version)
		}
		if tt.version == "" && version == "3.10.99" {
			t.Errorf("FindPython(%q) version = %s, the fake python3's", tt.want, version)
		}
	}
}

func TestFindPythonNone(t *testing.T) {
	t.Parallel()
	_, _, err := pybuild.FindPython(testCtx(t), "3.11", []string{"PATH=" + t.TempDir()})
	if !errors.Is(err, pybuild.ErrNoPython) {
		t.Fatalf("FindPython with an empty PATH = %v, want ErrNoPython", err)
	}
	for _, s := range []string{"python3.11", "apt-get install python3", "PYSHIP_PYTHON"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestMajorMinor(t *testing.T) {
	for in, want := range map[string]string{"3.11.7": "3.11", "3.11": "3.11", "python-3.11.4": "3.11", "3": "3", "": ""} {
		if got := pybuild.MajorMinor(in); got != want {
			t.Errorf("MajorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}

// A build whose context ended says why it ended (the cause, e.g. Ctrl-C), not the hint for a
// failing interpreter, venv module or package index that its killed subprocess suggests.
func TestEnsureVenvSaysWhyItsContextEnded(t *testing.T) {
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	cause := errors.New("interrupted (Ctrl-C)")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err := pybuild.EnsureVenv(ctx, py, t.TempDir(), pybuild.PipInput{}, pybuild.VenvOptions{Env: os.Environ()})
	if !errors.Is(err, cause) || strings.Contains(err.Error(), "install python3") {
		t.Errorf("EnsureVenv with an interrupted context: %v; want the interruption, no install hint", err)
	}
}
