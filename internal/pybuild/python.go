package pybuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoPython is returned (wrapped) by FindPython when no interpreter can be found.
var ErrNoPython = errors.New("no python 3 interpreter found")

// FindPython finds the interpreter that checks and builds the app and returns its path and
// version ("3.11.7"). It honours PYSHIP_PYTHON, then looks for python<major.minor> matching
// want ("3.11", "3.11.4" or "" for any) and finally python3 on PATH, both read from env
// (KEY=VALUE, as os.Environ gives it; the candidates run in env too, so pyenv shims see their
// settings; nil is this process's environment). The version may differ from want: callers
// compare MajorMinor(version) with MajorMinor(want) and warn when they differ.
func FindPython(ctx context.Context, want string, env []string) (path, version string, err error) {
	if env == nil {
		env = os.Environ()
	}
	if p := Getenv(env, "PYSHIP_PYTHON"); p != "" {
		path, err := lookPath(p, "")
		if err != nil {
			return "", "", fmt.Errorf("PYSHIP_PYTHON=%s: %w; set PYSHIP_PYTHON to the path of a python 3 interpreter or unset it", p, err)
		}
		v, err := pythonVersion(ctx, path, env)
		if err != nil {
			return "", "", fmt.Errorf("PYSHIP_PYTHON=%s does not run: %w; set PYSHIP_PYTHON to a working python 3 interpreter or unset it", p, err)
		}
		return path, v, nil
	}
	var tried []string
	var candidates []string
	if mm := MajorMinor(want); strings.Count(mm, ".") == 1 {
		candidates = append(candidates, "python"+mm)
	}
	candidates = append(candidates, "python3")
	for _, name := range candidates {
		tried = append(tried, name)
		path, err := lookPath(name, Getenv(env, "PATH"))
		if err != nil {
			continue
		}
		// A pyenv shim exists for every installed version but fails for those not selected,
		// so a candidate counts only once it has run.
		v, err := pythonVersion(ctx, path, env)
		if err != nil {
			if ctx.Err() != nil {
				return "", "", fmt.Errorf("finding python: %w", ctx.Err())
			}
			continue
		}
		if !strings.HasPrefix(v, "3.") {
			continue
		}
		return path, v, nil
	}
	return "", "", fmt.Errorf("%w (looked for %s on PATH): install python3 (e.g. `apt-get install python3`) or set PYSHIP_PYTHON to the interpreter's path",
		ErrNoPython, strings.Join(tried, " and "))
}

// lookPath finds name as exec.LookPath does, searching the folders of path (a PATH value)
// rather than this process's PATH. A name with a slash is taken as it is; relative folders of
// path are skipped, as exec.LookPath refuses them (ErrDot).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// Getenv is the value of k in env (KEY=VALUE, as os.Environ gives it): "" when unset, the
// last of a repeated key winning as in a child process.
func Getenv(env []string, k string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// pythonVersion runs python in env and returns its version, such as "3.11.7".
func pythonVersion(ctx context.Context, python string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-c",
		"import sys; print('%d.%d.%d' % sys.version_info[:3])")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", err
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", errors.New("it printed no version")
	}
	return v, nil
}

// MajorMinor reduces a Python version ("3.11.7", "3.11", "python-3.11.4") to "3.11".
// A version without a minor part is returned as it is.
func MajorMinor(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "python-")
	v = strings.TrimPrefix(v, "python")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
