package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/plan"
)

// loadPlan reads the plan from planFile (`pyship plan --output json`) when given, or resolves
// the project in dir.
func loadPlan(ctx context.Context, dir, planFile, env string) (*plan.Plan, error) {
	if planFile == "" {
		p, err := plan.Resolve(ctx, dir, plan.Options{Env: env})
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("reading the plan: %w", err)}
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, usageError{fmt.Errorf("reading the plan %s: %w (write it with `pyship plan --output json`)", planFile, err)}
	}
	if p.Dir == "" {
		p.Dir = dir
	}
	if !filepath.IsAbs(p.Dir) {
		p.Dir = filepath.Join(filepath.Dir(planFile), p.Dir)
	}
	return &p, nil
}
