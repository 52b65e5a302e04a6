package pybuild

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"
	"sync"
)

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
want = sys.argv[1]
have = '%d.%d' % sys.version_info[:2]
if have != want:
    sys.stderr.write(have)
    sys.exit(3)
for src, out, display in json.load(sys.stdin):
    try:
        py_compile.compile(src, cfile=out, dfile=display, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except (py_compile.PyCompileError, UnicodeDecodeError, ValueError):
        pass
`

// VersionMismatchError means the build host's Python is not the image's: its bytecode would not load.
type VersionMismatchError struct{ Host, Image string }

func (e *VersionMismatchError) Error() string {
	return fmt.Sprintf("the build host's Python is %s, the image's is %s", e.Host, e.Image)
}

// Compile byte-compiles jobs with python into hash-based (checked-hash) .pyc files, which stay
// valid whatever the files' mtimes, across `workers` processes. Files that do not compile are
// skipped (Check reports them). When python is not version ("3.11") it compiles nothing and
// returns a *VersionMismatchError.
func Compile(ctx context.Context, python, version string, jobs []CompileJob, workers int) error {
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
			cmd := exec.CommandContext(ctx, python, "-S", "-c", compileScript, version) // -S: no site, a faster start
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee) && ee.ExitCode() == 3:
				errs[i] = &VersionMismatchError{Host: strings.TrimSpace(stderr.String()), Image: version}
			default:
				errs[i] = fmt.Errorf("byte-compiling with %s: %w\n%s (set --python to a Python %s)", python, err, strings.TrimSpace(stderr.String()), version)
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

// Executable is the path of the interpreter that python runs, past wrappers such as pyenv's shims.
func Executable(ctx context.Context, python string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, python, "-S", "-c", "import sys; print(sys.executable)")
	cmd.Env = env // a pyenv shim reads PATH and PYENV_VERSION
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running %s: %w (set --python to a Python 3 interpreter)", python, err)
	}
	exe := strings.TrimSpace(string(out))
	if exe == "" {
		return python, nil
	}
	return exe, nil
}
