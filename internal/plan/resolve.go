package plan

import (
	"context"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/spec"
)

// Options adjust a resolution.
type Options struct {
	// Env selects the [env.NAME] overlay of the spec ("" for none).
	Env string
	// NoSpec ignores the project's spec and resolves from detection alone (pyship init --force).
	NoSpec bool
}

// Resolve loads the spec of the project in dir, detects what the spec leaves open and returns
// the resolved Plan with evidence for every value.
func Resolve(ctx context.Context, dir string, opts Options) (*Plan, error) {
	sp := &spec.Spec{Env: map[string]string{}, Positions: map[string]spec.Pos{}}
	if !opts.NoSpec {
		var err error
		if sp, err = spec.Load(dir, opts.Env); err != nil {
			return nil, err
		}
	}
	proj, err := detect.Analyze(ctx, dir)
	if err != nil {
		return nil, err
	}
	return Assemble(sp, proj)
}
