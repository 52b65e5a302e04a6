package image

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/pyship/pyship/internal/pybuild"
)

// compile byte-compiles jobs for the image's Python with the build host's. When the host's
// version differs, it warns once, compiles nothing and returns false.
func compile(ctx context.Context, o *Options, base BaseInfo, jobs []pybuild.CompileJob) (bool, error) {
	workers := min(runtime.NumCPU(), (len(jobs)+49)/50)
	err := pybuild.Compile(ctx, o.Python, base.MinorVersion(), jobs, workers)
	var vm *pybuild.VersionMismatchError
	if errors.As(err, &vm) {
		if !o.warnedBytecode {
			o.warnedBytecode = true
			o.Progress.emit(Event{Step: "bytecode", Warning: true, Message: fmt.Sprintf("skipping bytecode: %v (set --python to a Python %s to precompile)", vm, vm.Image)})
		}
		return false, nil
	}
	return err == nil, err
}
