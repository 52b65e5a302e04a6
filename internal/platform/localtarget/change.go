package localtarget

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/version"
)

// Plan builds the release Deploy would (kept in the state folder, deployed as it is by
// Apply) and records the release serving now and the agent's state serial for the app,
// which Apply checks. Nothing runs or stops.
func (l *Platform) Plan(ctx context.Context, p *plan.Plan, o platform.PlanOptions) (*gitops.SavedPlan, error) {
	m, err := l.build(ctx, p, "planning", o.Python, o.Progress, false)
	if err != nil {
		return nil, err
	}
	serial, stable, err := l.serial(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	return &gitops.SavedPlan{Pyship: version.String(), App: p.Name, Target: string(platform.Local), Plan: p,
		Home: l.o.Home, Release: m.ID, Stable: stable, Serial: serial}, nil
}

// Apply deploys the release the saved plan sp (read from file) built, unless the agent's
// state for the app moved since the plan was made (a gitops.StaleError) or the release is
// gone.
func (l *Platform) Apply(ctx context.Context, sp *gitops.SavedPlan, file string, o platform.DeployOptions) (*platform.Result, error) {
	if _, err := release.Load(release.Paths{Home: l.o.Home}, sp.App, sp.Release); err != nil {
		return nil, platform.Invalid(fmt.Errorf("the release %s the plan %s built is gone from %s (pruned?): make a new plan: %w", sp.Release, file, l.o.Home, err))
	}
	serial, _, err := l.serial(ctx, sp.App)
	if err != nil {
		return nil, err
	}
	if err := sp.CheckSerial(file, serial); err != nil {
		return nil, err
	}
	fmt.Fprintf(orDiscard(o.Progress), "applying the saved plan %s: %s release %s\n", file, sp.App, sp.Release)
	return l.DeployRelease(ctx, sp.App, sp.Release, o)
}

// serial is the agent's state serial and stable release of app: -1 when no agent runs, 0
// when it does not know the app.
func (l *Platform) serial(ctx context.Context, app string) (int64, string, error) {
	if l.c.Ping(ctx) != nil {
		return -1, "", nil
	}
	sts, err := l.c.Status(ctx, app)
	if err != nil {
		return 0, "", fmt.Errorf("reading the state of %s from the agent: %w", app, err)
	}
	for _, st := range sts {
		if st.App == app {
			return st.Serial, st.Stable, nil
		}
	}
	return 0, "", nil
}

// Drift compares what runs for the app with its stable release's record (gitops.LocalDrift).
// With reconcile, it ends the processes marked as replicas of this state folder that the
// agent does not know and the replicas whose environment differs from the record (the agent
// starts them again from it), then waits up to a minute for the drift to be gone.
func (l *Platform) Drift(ctx context.Context, p *plan.Plan, reconcile bool) (*gitops.DriftReport, error) {
	r := &gitops.DriftReport{Where: "on this machine"}
	var err error
	if r.Drifts, err = l.drift(ctx, p.Name); err != nil || !reconcile || len(r.Drifts) == 0 {
		return r, err
	}
	for _, d := range r.Drifts {
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
		r.Drifts, err = l.drift(ctx, p.Name)
		if err != nil || len(r.Drifts) == 0 || time.Now().After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// drift is the app's drift now.
func (l *Platform) drift(ctx context.Context, app string) ([]gitops.Drift, error) {
	if err := l.c.Ping(ctx); err != nil {
		return nil, platform.Invalid(fmt.Errorf("no pyship agent runs for %s: %s is not deployed on this machine", l.o.Home, app))
	}
	sts, err := l.c.Status(ctx, app)
	if err != nil {
		return nil, err
	}
	if len(sts) == 0 || sts[0].Stable == "" {
		return nil, platform.Invalid(fmt.Errorf("%s has no stable release on this machine: deploy it first", app))
	}
	m, err := release.Load(release.Paths{Home: l.o.Home}, app, sts[0].Stable)
	if err != nil {
		return nil, err
	}
	return gitops.LocalDrift(sts[0], m, supervise.Marked(l.o.Home), gitops.ProcEnviron)
}
