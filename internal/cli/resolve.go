package cli

import (
	"context"
	"errors"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/spec"
)

// resolvePlan resolves the app in dir; spec errors are the user's to fix (exit code 2).
func resolvePlan(ctx context.Context, dir, env string) (*plan.Plan, error) {
	p, err := plan.Resolve(ctx, dir, plan.Options{Env: env})
	if err != nil {
		return nil, specUsageError(err)
	}
	return p, nil
}

// specUsageError marks spec errors as usage errors (exit code 2) and returns others as they are.
func specUsageError(err error) error {
	var se spec.Errors
	if errors.As(err, &se) {
		return usageError{err}
	}
	return err
}
