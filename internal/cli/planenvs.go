package cli

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/spec"
)

// planAllEnvs resolves the app for every env of its spec and prints the values that differ.
func planAllEnvs(ctx context.Context, s *streams, dir string, asJSON bool) error {
	if err := plan.CheckProjectDir(dir); err != nil {
		return err
	}
	sp, err := spec.Load(dir, "")
	if err != nil {
		return specUsageError(err)
	}
	if len(sp.Environments) == 0 {
		return usageError{fmt.Errorf("--env all: the spec in %s declares no [env.NAME] overlay", dir)}
	}
	envs := append([]string{""}, sp.Environments...)
	plans := map[string]*plan.Plan{}
	for _, e := range envs {
		if plans[e], err = resolvePlan(ctx, dir, e); err != nil {
			return err
		}
	}
	diffs, err := gitops.CompareEnvs(plans)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(s.Out, diffs)
	}
	return gitops.WriteEnvTable(s.Out, envs, diffs)
}
