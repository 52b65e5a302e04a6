package kube

import (
	"time"

	"github.com/pyship/pyship/internal/plan"
)

// DeployOptionsFor fills DeployOptions from the plan's [deploy] table (replicas, rollback window,
// canary steps and pause); unparseable durations were rejected when the plan was resolved.
func DeployOptionsFor(p *plan.Plan, progress Progress) DeployOptions {
	o := DeployOptions{Replicas: max(p.Deploy.Replicas, 1), Prune: true, Progress: progress}
	o.RollbackWindow, _ = time.ParseDuration(p.Deploy.RollbackWindow)
	if c := p.Deploy.Canary; c != nil {
		o.Steps = append([]int(nil), c.Steps...)
		o.Pause, _ = time.ParseDuration(c.Pause)
	}
	return o
}
