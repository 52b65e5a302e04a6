package pybuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// VenvOptions adjust EnsureVenv.
type VenvOptions struct {
	// Env is the environment of python and pip; PIP_* variables there (index, find-links,
	// no-index...) apply as the user set them.
	Env []string
	// Progress receives pip's output (nil discards it).
	Progress io.Writer
}

// EnsureVenv returns a virtual environment for the interpreter python with the app's
// dependencies installed, creating it under cacheDir when no identical one exists. Venvs are
// keyed by the interpreter and pip's input, so releases with the same dependencies share one.
func EnsureVenv(ctx context.Context, python, cacheDir string, deps PipInput, opts VenvOptions) (string, error) {
	vcmd := exec.CommandContext(ctx, python, "-c", "import sys; print(sys.version)")
	vcmd.Env = opts.Env
	ver, err := vcmd.Output()
	if err := ended(ctx, "running the Python interpreter "+python); err != nil {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("running the Python interpreter %s: %w; install python3 or set [build] python", python, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", python, ver)
	fmt.Fprintf(h, "%s\n--\n%s\n--\n%s\n", deps.Requirements, deps.Constraints, strings.Join(deps.Args, "\x00"))
	if len(deps.Args) > 0 && deps.Dir != "" {
		fmt.Fprintf(h, "%s\n", deps.Dir) // relative paths in Args are Dir's
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("creating the venv cache %s: %w", cacheDir, err)
	}
	// Venvs record their own path: use the real one, not a path through a symlink.
	if real, err := filepath.EvalSymlinks(cacheDir); err == nil {
		cacheDir = real
	}
	dir := filepath.Join(cacheDir, key)
	if _, err := os.Stat(filepath.Join(dir, ".pyship-complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("creating the venv cache %s: %w", cacheDir, err)
	}
	// Venvs hard-code their location, so the venv is built in place under a lock; the marker
	// file says it is complete.
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("locking venv %s: %w", dir, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking venv %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, ".pyship-complete")); err == nil {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	var log bytes.Buffer
	out = io.MultiWriter(out, &log)
	if err := run(ctx, out, opts.Env, "", python, "-m", "venv", dir); err != nil {
		if err := ended(ctx, "creating a virtual environment with "+python); err != nil {
			return "", err
		}
		return "", fmt.Errorf("creating a virtual environment with %s: %w\n%s\n(on Debian: apt-get install python3-venv)", python, err, lastLines(log.String(), 5))
	}
	if !deps.Empty() {
		args := []string{"-m", "pip", "install", "--disable-pip-version-check", "--no-warn-script-location"}
		req := dir + ".requirements.txt"
		if err := os.WriteFile(req, []byte(deps.Requirements), 0o644); err != nil {
			return "", err
		}
		defer os.Remove(req)
		args = append(args, "-r", req)
		if deps.Constraints != "" {
			cons := dir + ".constraints.txt"
			if err := os.WriteFile(cons, []byte(deps.Constraints), 0o644); err != nil {
				return "", err
			}
			defer os.Remove(cons)
			args = append(args, "-c", cons)
		}
		args = append(args, deps.Args...)
		log.Reset()
		if err := run(ctx, out, opts.Env, deps.Dir, filepath.Join(dir, "bin", "python"), args...); err != nil {
			if err := ended(ctx, "installing the app's dependencies with pip"); err != nil {
				return "", err
			}
			return "", fmt.Errorf("installing the app's dependencies with pip: %w\n%s\nset PIP_INDEX_URL, PIP_FIND_LINKS or PIP_NO_INDEX to point pip at your packages", err, lastLines(log.String(), 8))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".pyship-complete"), nil, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

// ended is the reason ctx ended (context.Cause: Ctrl-C, a deadline), said as what was being
// done, or nil while it runs: a command killed because its context ended failed for that
// reason, not for what its exit suggests (a missing python3-venv, an unreachable index).
func ended(ctx context.Context, doing string) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", doing, context.Cause(ctx))
}

func run(ctx context.Context, out io.Writer, env []string, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
