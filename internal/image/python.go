package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pyship/pyship/internal/pybuild"
)

// compile byte-compiles jobs for the image's Python with the build host's. When the host's
// version differs, it warns once, compiles nothing and returns false.
func compile(ctx context.Context, o *Options, base BaseInfo, jobs []pybuild.CompileJob) (bool, error) {
	workers := min(runtime.NumCPU(), (len(jobs)+49)/50)
	exe, cacheFile := o.interpreter(ctx)
	err := pybuild.Compile(ctx, exe, base.MinorVersion(), jobs, workers)
	var vm *pybuild.VersionMismatchError
	if errors.As(err, &vm) && exe != o.Python {
		// The remembered interpreter may be stale (pyenv switched): ask o.Python again.
		os.Remove(cacheFile)
		err = pybuild.Compile(ctx, o.Python, base.MinorVersion(), jobs, workers)
	}
	if errors.As(err, &vm) {
		o.warnBytecode.Do(func() {
			o.Progress.emit(Event{Step: "bytecode", Warning: true, Message: fmt.Sprintf("skipping bytecode: %v (set --python to a Python %s to precompile)", vm, vm.Image)})
		})
		return false, nil
	}
	return err == nil, err
}

// Interpreter is the executable behind python (past pyenv-style shims) in env (nil: this
// process's), remembered in DefaultCacheDir(env): what Build runs for python.
func Interpreter(ctx context.Context, python string, env []string) string {
	o := Options{Python: python, CacheDir: DefaultCacheDir(env), Env: env}
	exe, _ := o.interpreter(ctx)
	return exe
}

// interpreter is the executable behind o.Python (past pyenv-style shims, which cost a shell
// start per run), remembered in the cache for the same PATH and pyenv settings.
func (o *Options) interpreter(ctx context.Context) (exe, cacheFile string) {
	cwd, _ := os.Getwd()
	env := o.environ()
	key := hashKey("python-v1", o.Python, pybuild.Getenv(env, "PATH"), pybuild.Getenv(env, "PYENV_VERSION"), cwd)
	cacheFile = filepath.Join(o.CacheDir, "python", key)
	if b, err := os.ReadFile(cacheFile); err == nil {
		if fi, err := os.Stat(string(b)); err == nil && fi.Mode().IsRegular() {
			return string(b), cacheFile
		}
	}
	exe, err := pybuild.Executable(ctx, o.Python, env)
	if err != nil {
		return o.Python, cacheFile
	}
	_ = writeFileAtomic(cacheFile, []byte(exe)) // only a cache
	return exe, cacheFile
}
