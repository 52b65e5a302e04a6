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
}

// Resolve loads the spec of the project in dir, detects what the spec leaves open and returns
// the resolved Plan with evidence for every value.
func Resolve(ctx context.Context, dir string, opts Options) (*Plan, error) {
	sp, err := spec.Load(dir, opts.Env)
	if err != nil {
		return nil, err
	}
	proj, err := detect.Analyze(ctx, dir)
	if err != nil {
		return nil, err
	}
	return Assemble(sp, proj)
}
