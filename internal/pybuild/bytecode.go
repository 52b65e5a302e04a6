package pybuild

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path"
	"strings"
	"sync"
)

// HostVersion is the "3.11" (major.minor) of the interpreter python and the path of its
// executable (which skips wrappers such as pyenv's shims when run again).
func HostVersion(ctx context.Context, python string) (version, executable string, err error) {
	out, err := exec.CommandContext(ctx, python, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)").Output()
	if err != nil {
		return "", "", fmt.Errorf("running %s: %w (set --python to a Python 3 interpreter)", python, err)
	}
	version, executable, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	if executable == "" {
		executable = python
	}
	return version, executable, nil
}

// CompileJob is one source file to byte-compile.
type CompileJob struct {
	// Src is the source file on the build host; Out is where its .pyc goes.
	Src, Out string
	// Display is the path recorded in the code objects (the file's path inside the image).
	Display string
}

// PycPath is where Python looks for the cached bytecode of the source file rel (slash-separated)
// for interpreter version "3.11": __pycache__/NAME.cpython-311.pyc beside it.
func PycPath(rel, version string) string {
	dir, file := path.Split(rel)
	return path.Join(dir, "__pycache__", strings.TrimSuffix(file, ".py")+".cpython-"+strings.ReplaceAll(version, ".", "")+".pyc")
}

const compileScript = `
import json, py_compile, sys
for src, out, display in json.load(sys.stdin):
    try:
        py_compile.compile(src, cfile=out, dfile=display, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except (py_compile.PyCompileError, UnicodeDecodeError, ValueError):
        pass
`

// Compile byte-compiles jobs with python into hash-based (checked-hash) .pyc files, which stay
// valid whatever the files' mtimes, across `workers` processes. Files that do not compile are
// skipped (Check reports them). The caller makes sure python's version is the image's.
func Compile(ctx context.Context, python string, jobs []CompileJob, workers int) error {
	if len(jobs) == 0 {
		return nil
	}
	if workers < 1 {
		workers = 1
	}
	chunks := make([][][3]string, workers)
	for i, j := range jobs {
		chunks[i%workers] = append(chunks[i%workers], [3]string{j.Src, j.Out, j.Display})
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i, c := range chunks {
		if len(c) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, err := json.Marshal(c)
			if err != nil {
				errs[i] = err
				return
			}
			cmd := exec.CommandContext(ctx, python, "-c", compileScript)
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("byte-compiling with %s: %w\n%s", python, err, strings.TrimSpace(stderr.String()))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
