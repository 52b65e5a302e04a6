package platform

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
)

// SyntaxErrors is the error of a deploy or build refused because the app's sources do not
// compile; the CLI prints each as path:line:col.
type SyntaxErrors struct {
	// Doing is what was refused ("deploying", "building").
	Doing  string
	Errors []pybuild.SyntaxError
}

func (e *SyntaxErrors) Error() string {
	return fmt.Sprintf("not %s: %d syntax error(s) (pyship check shows them)", e.Doing, len(e.Errors))
}

// CheckSyntax compiles the app's sources with python ("" picks the plan's, as `pyship check`
// does) and returns *SyntaxErrors when some do not compile.
func CheckSyntax(ctx context.Context, p *plan.Plan, doing, python string, env []string) error {
	var errs []pybuild.SyntaxError
	if python == "" {
		rep, err := pybuild.CheckApp(ctx, p, env)
		if err != nil {
			return err
		}
		errs = rep.Errors
	} else {
		var err error
		if errs, err = pybuild.CheckFiles(ctx, p, python); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return &SyntaxErrors{Doing: doing, Errors: errs}
	}
	return nil
}
