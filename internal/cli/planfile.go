package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/plan"
)

// planSource is where a command gets its plan: a plan JSON document (`pyship plan --output
// json`; "-" reads standard input) when planFile is set, else the project in dir resolved
// with the env overlay.
type planSource struct {
	dir, planFile, env string
	in                 io.Reader
	// overrides are flags that stand for spec keys (deploy --strategy, --target).
	overrides plan.Options
}

// load returns the plan. A relative Dir in a plan document is taken relative to the document.
func (src planSource) load(ctx context.Context) (*plan.Plan, error) {
	dir := src.dir
	if dir == "" {
		dir = "."
	}
	if src.planFile == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		opts := src.overrides
		opts.Env = src.env
		p, err := plan.Resolve(ctx, abs, opts)
		if err != nil {
			// Spec errors are the user's input (2); a project pyship cannot run is a problem found (1), as in plan and check.
			return nil, specUsageError(fmt.Errorf("resolving the app in %s: %w", abs, err))
		}
		return p, nil
	}
	var b []byte
	var err error
	base := filepath.Dir(src.planFile)
	if src.planFile == "-" {
		if src.in == nil {
			return nil, usageError{fmt.Errorf("--plan -: no standard input")}
		}
		b, err = io.ReadAll(src.in)
		base = "."
	} else {
		b, err = os.ReadFile(src.planFile)
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("reading the plan %s: %w", src.planFile, err)}
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, usageError{fmt.Errorf("the plan %s is not valid plan JSON: %w (write it with `pyship plan --output json`)", src.planFile, err)}
	}
	switch {
	case p.Dir == "":
		p.Dir = dir
	case !filepath.IsAbs(p.Dir):
		p.Dir = filepath.Join(base, p.Dir)
	}
	p.Override(src.overrides)
	return &p, nil
}
