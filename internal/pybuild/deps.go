package pybuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Target is the platform and interpreter that dependencies are installed for.
type Target struct {
	// PythonVersion is the image's "3.11" (major.minor).
	PythonVersion string
	// Arch is the machine, "x86_64" or "aarch64".
	Arch string
	// Glibc is the image's C library version, "2.36"; "" means the manylinux2014 baseline (2.17).
	Glibc string
}

// Platforms lists pip's --platform tags the target accepts, newest first: every
// manylinux_2_N from the target's glibc down to 2_17, then the legacy aliases.
func (t Target) Platforms() []string {
	minor := 17
	if _, m, ok := strings.Cut(t.Glibc, "."); ok {
		fmt.Sscanf(m, "%d", &minor)
	}
	var tags []string
	for n := minor; n >= 17; n-- {
		tags = append(tags, fmt.Sprintf("manylinux_2_%d_%s", n, t.Arch))
	}
	tags = append(tags, "manylinux2014_"+t.Arch)
	if t.Arch == "x86_64" {
		tags = append(tags, "manylinux2010_x86_64", "manylinux1_x86_64")
	}
	return append(tags, "linux_"+t.Arch)
}

// NoWheelError is a requirement that has no wheel for the target: pyship installs wheels only.
type NoWheelError struct {
	Requirement string
	Target      Target
}

func (e *NoWheelError) Error() string {
	return fmt.Sprintf("pip found no wheel of %s for linux/%s CPython %s in the configured indexes "+
		"(PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, pip.conf): check the name, the version and that "+
		"the index is reachable; pyship installs wheels only, so a package published only as a source "+
		"distribution has to be built into a wheel first (add it to PIP_FIND_LINKS), or write a Dockerfile "+
		"with `pyship dockerfile` and build that with Docker or BuildKit",
		e.Requirement, e.Target.Arch, e.Target.PythonVersion)
}

var noMatch = regexp.MustCompile(`No matching distribution found for ([^\s]+)`)

// InstallDeps installs in (requirements with their hashes, constraints and pip options) into
// the empty folder dest with the build host's pip run by python, cross-installing wheels for t
// rather than for the host. pip runs in env (nil: this process's environment) and reads the
// user's settings there itself (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS,
// PIP_NO_INDEX, PIP_CONFIG_FILE, pip.conf under HOME; see PipSettings). Nothing is byte-compiled.
func InstallDeps(ctx context.Context, python string, in PipInput, dest string, t Target, env []string) error {
	if in.Empty() {
		return os.MkdirAll(dest, 0o755)
	}
	tmp, err := os.MkdirTemp("", "pyship-req-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	reqFile := filepath.Join(tmp, "requirements.txt")
	if err := os.WriteFile(reqFile, []byte(in.Requirements), 0o644); err != nil {
		return err
	}
	if dest, err = filepath.Abs(dest); err != nil {
		return err
	}
	args := []string{"-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
		"--no-warn-script-location", "--target", dest, "--only-binary=:all:",
		"--python-version", t.PythonVersion, "--implementation", "cp"}
	for _, p := range t.Platforms() {
		args = append(args, "--platform", p)
	}
	args = append(args, "-r", reqFile)
	if in.Constraints != "" {
		consFile := filepath.Join(tmp, "constraints.txt")
		if err := os.WriteFile(consFile, []byte(in.Constraints), 0o644); err != nil {
			return err
		}
		args = append(args, "-c", consFile)
	}
	args = append(args, in.Args...)
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = in.Dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		if err := ended(ctx, "installing dependencies with pip"); err != nil {
			return err
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("running pip with %s: %w (set --python to an interpreter that has pip)", python, err)
		}
		if m := noMatch.FindStringSubmatch(stderr.String()); m != nil {
			return &NoWheelError{Requirement: m[1], Target: t}
		}
		return fmt.Errorf("installing dependencies with pip: %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// PipSettings describes the user's pip settings that change what pip installs, for cache
// keys: every PIP_* variable of env, and the path and contents of each pip configuration
// file pip reads (PIP_CONFIG_FILE; the global /etc/xdg/pip/pip.conf and /etc/pip.conf; the
// user's ~/.pip/pip.conf and $XDG_CONFIG_HOME/pip/pip.conf; the interpreter's prefix/pip.conf,
// where python is the interpreter's executable). Files that do not exist are left out.
func PipSettings(env []string, python string) string {
	var b strings.Builder
	get := func(k string) string { return Getenv(env, k) }
	var vars []string
	for _, e := range env {
		if strings.HasPrefix(e, "PIP_") {
			vars = append(vars, e)
		}
	}
	sort.Strings(vars)
	for _, v := range vars {
		b.WriteString(v + "\n")
	}
	var files []string
	if f := get("PIP_CONFIG_FILE"); f != "" && f != os.DevNull {
		files = append(files, f)
	}
	xdgDirs := get("XDG_CONFIG_DIRS")
	if xdgDirs == "" {
		xdgDirs = "/etc/xdg"
	}
	for _, d := range filepath.SplitList(xdgDirs) {
		files = append(files, filepath.Join(d, "pip", "pip.conf"))
	}
	files = append(files, "/etc/pip.conf")
	if home := get("HOME"); home != "" {
		files = append(files, filepath.Join(home, ".pip", "pip.conf"))
		xdgHome := get("XDG_CONFIG_HOME")
		if xdgHome == "" {
			xdgHome = filepath.Join(home, ".config")
		}
		files = append(files, filepath.Join(xdgHome, "pip", "pip.conf"))
	}
	if filepath.IsAbs(python) {
		files = append(files, filepath.Join(filepath.Dir(filepath.Dir(python)), "pip.conf"))
	}
	for _, f := range files {
		if c, err := os.ReadFile(f); err == nil {
			fmt.Fprintf(&b, "%s\x00%d\x00%s\n", f, len(c), c)
		}
	}
	return b.String()
}

// FixScripts rewrites the first line of each console-script launcher in binDir so that it runs
// interpreter (the image's Python) instead of the build host's.
func FixScripts(binDir, interpreter string) error {
	ents, err := os.ReadDir(binDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(binDir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out, ok := fixShebang(b, interpreter)
		if !ok {
			continue
		}
		if err := os.WriteFile(p, out, 0o755); err != nil {
			return fmt.Errorf("fixing the launcher %s: %w", p, err)
		}
	}
	return nil
}

// fixShebang replaces a Python shebang (or pip's `#!/bin/sh` + `”'exec'` trampoline used for
// long interpreter paths) with one for interpreter.
func fixShebang(b []byte, interpreter string) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte("#!")) {
		return nil, false
	}
	lines := bytes.SplitN(b, []byte("\n"), 4)
	if len(lines) >= 4 && string(lines[0]) == "#!/bin/sh" && bytes.HasPrefix(lines[1], []byte("'''exec' ")) {
		return append([]byte("#!"+interpreter+"\n"), lines[3]...), true
	}
	if !bytes.Contains(lines[0], []byte("python")) {
		return nil, false
	}
	_, rest, _ := bytes.Cut(b, []byte("\n"))
	return append([]byte("#!"+interpreter+"\n"), rest...), true
}
