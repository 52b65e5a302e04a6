package plan

import (
	"context"
	"errors"
	"io"
)

// Options adjust a resolution.
type Options struct {
	// Env selects the [env.NAME] overlay of the spec ("" for none).
	Env string
}

// Resolve loads the spec of the project in dir, detects what the spec leaves open and returns
// the resolved Plan with evidence for every value.
func Resolve(ctx context.Context, dir string, opts Options) (*Plan, error) {
	return nil, errors.New("plan.Resolve: not implemented")
}

// WriteText prints the plan for people; with explain, the evidence of each value too.
func WriteText(w io.Writer, p *Plan, explain bool) error {
	return errors.New("plan.WriteText: not implemented")
}
