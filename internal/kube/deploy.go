package kube

import (
	"context"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/rollout"
)

// DeployOptions tune Deploy.
type DeployOptions struct {
	// Replicas of the app (the plan's deploy.replicas).
	Replicas int
	// Steps are the canary traffic percentages; Pause holds each step before analysing it.
	Steps []int
	Pause time.Duration
	// RollbackWindow keeps the previous blue-green/canary release running after the switch
	// (a rolling update's previous release keeps its Deployment, scaled to zero).
	RollbackWindow time.Duration
	// Prune removes objects of the app that are no longer rendered.
	Prune bool
	// Force takes over fields owned by other field managers.
	Force    bool
	Progress Progress
	// MinRequests, MaxErrorRate and MaxLatencyRatio are the canary analysis' thresholds
	// (rollout.CanaryConfig), used when Metrics is set.
	MinRequests                   int
	MaxErrorRate, MaxLatencyRatio float64
	// NoTraffic and NoTrafficAfter: what a step without enough traffic comes to, and when.
	NoTraffic      rollout.NoTrafficPolicy
	NoTrafficAfter time.Duration
	// Metrics, when set, reads a release's cumulative request metrics (e.g. from Prometheus),
	// and each canary step is judged on them as on the local target; without it, on the
	// health of its pods alone.
	Metrics func(ctx context.Context, release string) (rollout.Metrics, error)
	// Checks and MaxBurnRate (against Objective, a fraction) are the canary's PromQL checks,
	// asked of Prometheus (nil: none configured, and a step with checks is inconclusive).
	Checks                 []rollout.Check
	MaxBurnRate, Objective float64
	Prometheus             rollout.Querier
	// StartupTimeout is how long a pod may take to become ready before its release fails
	// (default 5m).
	StartupTimeout time.Duration
	// Clock is the clock (the wall clock when nil).
	Clock clock.Clock
}

func (o DeployOptions) now() time.Time { return clock.Or(o.Clock).Now() }

// Deploy applies the bundle and rolls it out with its strategy through rollout.Engine,
// waiting with watches. A failed release is rolled back when there is a release to return
// to, and the error says why it failed.
func (c *Client) Deploy(ctx context.Context, b *Bundle, o DeployOptions) error {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 5 * time.Minute
	}
	if b.Namespace != c.Namespace {
		return fmt.Errorf("deploy: the objects were rendered for namespace %q but the client uses %q; render with the same --namespace", b.Namespace, c.Namespace)
	}
	switch b.Strategy {
	case rollout.Rolling, "", rollout.BlueGreen, rollout.Canary, rollout.Recreate:
		return c.deployReleases(ctx, b, o)
	}
	return fmt.Errorf("deploy: unknown strategy %q; set [deploy] strategy to rolling, blue-green, canary or recreate", b.Strategy)
}

// Rollback returns the app to its previous release. Rolling: the previous release is rolled
// out again over the active one through the engine, one replica at a time; blue-green and
// canary: the previous release's pods get the traffic back. The release rolled back from
// becomes the previous one, so a second rollback returns to it.
func (c *Client) Rollback(ctx context.Context, b *Bundle, o DeployOptions) error {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 5 * time.Minute
	}
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if err := c.adoptLegacy(ctx, b.App, st, o); err != nil {
		return err
	}
	// Rolling and recreate roll the previous release out again through the engine (recreate:
	// the active release stops before the previous one starts).
	rolling := b.Strategy == rollout.Rolling || b.Strategy == "" || b.Strategy == rollout.Recreate
	if rolling && st.Candidate != "" && st.Active != "" {
		// A rolling deploy that did not finish: back to the active release, as abort does.
		o.Progress.printf("the rollout of %s did not finish: returning to release %s", st.Candidate, st.Active)
		return c.Abort(ctx, b, o)
	}
	if st.Previous == "" {
		return fmt.Errorf("rollback: %s has no previous release on namespace %s (deploy twice first, and within the rollback window)", b.App, c.Namespace)
	}
	prev := st.Previous
	if ok, err := c.releaseExists(ctx, b.App, prev); err != nil || !ok {
		return fmt.Errorf("rollback: the previous release %s of %s is gone (the rollback window passed); deploy it again instead", prev, b.App)
	}
	if rolling {
		return c.rollbackRolling(ctx, b, st, o)
	}
	if err := c.ScaleRelease(ctx, b.App, prev, o.Replicas); err != nil {
		return err
	}
	if err := c.WaitRelease(ctx, b.App, prev, o.Replicas, o.Progress); err != nil {
		return err
	}
	if err := c.SetTraffic(ctx, b, prev, "", 0, o.Force); err != nil {
		return err
	}
	if err := c.resumeAutoscaler(ctx, b, prev, o.Force, o.Progress); err != nil {
		return err
	}
	if b.Strategy == rollout.Canary && b.find("HTTPRoute", "") == nil {
		// Without a traffic router every ready pod gets traffic: the release rolled back from
		// must go.
		if err := c.ScaleRelease(ctx, b.App, st.Active, 0); err != nil {
			return err
		}
	}
	st.Previous, st.Active, st.Phase, st.SwitchedAt = st.Active, prev, PhaseRolledBack, o.now()
	st.RetireAfter = st.SwitchedAt.Add(o.RollbackWindow)
	return c.writeState(ctx, b.App, st)
}

// rollbackRolling rolls the previous release out again over the active one with the rolling
// strategy's own steps (surge one, wait until ready, drain one), through the engine: a
// previous release that no longer starts is rolled back from, and the active one keeps
// serving. The releases then swap places.
func (c *Client) rollbackRolling(ctx context.Context, b *Bundle, st *State, o DeployOptions) error {
	prev, active := st.Previous, st.Active
	o.Progress.printf("rolling %s back from release %s to %s", b.App, active, prev)
	if b.Strategy == rollout.Recreate {
		o.Progress.printf("recreate: release %s stops before %s starts, so %s serves nothing until %s is ready", active, prev, b.App, prev)
	}
	pb := *b
	pb.Release = prev
	if err := c.pauseLiveAutoscaler(ctx, b, o.Force, o.Progress); err != nil {
		return err
	}
	st.Candidate, st.Phase = prev, PhaseProgressing
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	final, err := c.runEngine(ctx, &pb, o, st, resume(st, o.rolloutSpec(&pb, active)))
	if err != nil {
		return err
	}
	serving := prev
	if final.Phase != rollout.Succeeded {
		serving = active
	}
	if err := c.resumeAutoscaler(context.WithoutCancel(ctx), b, serving, o.Force, o.Progress); err != nil {
		return err
	}
	if final.Phase != rollout.Succeeded {
		return fmt.Errorf("rollback: %s\nrelease %s still serves", final.Message, active)
	}
	st.Active, st.Previous, st.Candidate, st.Failed, st.RolloutJSON = prev, active, "", "", nil
	st.Phase, st.SwitchedAt = PhaseRolledBack, o.now()
	st.RetireAfter = st.SwitchedAt.Add(o.RollbackWindow)
	return c.writeState(context.WithoutCancel(ctx), b.App, st)
}
