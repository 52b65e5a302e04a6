package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
)

// runLocal lists the local drift of app and, with --reconcile, ends the processes the agent
// does not know and restarts the replicas whose environment differs from the record.
func (o *driftOptions) runLocal(ctx context.Context, s *streams, app string) ([]gitops.Drift, error) {
	if err := o.local.resolveHome(s.getenv); err != nil {
		return nil, err
	}
	detect := func() ([]gitops.Drift, error) {
		c := agent.NewClient(o.local.home)
		if err := c.Ping(ctx); err != nil {
			return nil, usageError{fmt.Errorf("no pyship agent runs for %s: %s is not deployed on this machine", o.local.home, app)}
		}
		sts, err := c.Status(ctx, app)
		if err != nil {
			return nil, err
		}
		if len(sts) == 0 || sts[0].Stable == "" {
			return nil, usageError{fmt.Errorf("%s has no stable release on this machine: deploy it first", app)}
		}
		m, err := release.Load(release.Paths{Home: o.local.home}, app, sts[0].Stable)
		if err != nil {
			return nil, err
		}
		return gitops.LocalDrift(sts[0], m, supervise.Marked(o.local.home), gitops.ProcEnviron)
	}
	drifts, err := detect()
	if err != nil || !o.reconcile || len(drifts) == 0 {
		return drifts, err
	}
	for _, d := range drifts {
		switch d.Kind {
		case "Process":
			if pid, err := strconv.Atoi(d.Name); err == nil {
				supervise.KillGroup(pid)
			}
		case "Release":
			for _, f := range d.Fields {
				// "env K of pid N: ..." — the agent restarts the replica from its record.
				if _, rest, ok := strings.Cut(f, " of pid "); ok && strings.HasPrefix(f, "env ") {
					if pid, err := strconv.Atoi(strings.SplitN(rest, ":", 2)[0]); err == nil {
						supervise.KillGroup(pid)
					}
				}
			}
		}
	}
	// Poll until the agent's replicas are back and the drift is gone, or the deadline passes.
	deadline := time.Now().Add(60 * time.Second)
	for {
		drifts, err = detect()
		if err != nil || len(drifts) == 0 || time.Now().After(deadline) {
			return drifts, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
