package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DeployOptions tune Deploy.
type DeployOptions struct {
	// Replicas of the app (the plan's deploy.replicas).
	Replicas int
	// Steps are the canary traffic percentages; Pause holds each step before analysing it.
	Steps []int
	Pause time.Duration
	// RollbackWindow keeps the previous blue-green/canary release running after the switch.
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
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o DeployOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Deploy applies the bundle and rolls it out with its strategy, waiting with watches. A failed
// release is rolled back when the strategy allows, and the error says why it failed.
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
	case rollout.Rolling, "":
		return c.deployRolling(ctx, b, o)
	case rollout.BlueGreen, rollout.Canary:
		return c.deployReleases(ctx, b, o)
	}
	return fmt.Errorf("deploy: unknown strategy %q; set [deploy] strategy to rolling, blue-green or canary", b.Strategy)
}

// deployRolling lets the Deployment's own rolling update replace the pods, watched; a release
// that never becomes available is rolled back to the last good Deployment.
func (c *Client) deployRolling(ctx context.Context, b *Bundle, o DeployOptions) error {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if _, err := c.Apply(ctx, b, ApplyOptions{Prune: o.Prune, Force: o.Force, Progress: o.Progress}); err != nil {
		return err
	}
	st.Candidate, st.Phase = b.Release, PhaseProgressing
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	d := b.Deployment()
	wctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	go c.takeAbort(wctx, b.App, abort)
	werr := c.WaitDeployment(wctx, d.GetName(), o.Progress)
	if errors.Is(context.Cause(wctx), errAborted) {
		werr = fmt.Errorf("the deploy of release %s was aborted by the user", b.Release)
	}
	if werr == nil {
		good, err := json.Marshal(d.Object)
		if err != nil {
			return err
		}
		if st.Active != b.Release { // the release it replaces becomes the one to roll back to
			st.Previous, st.PreviousJSON = st.Active, st.LastGoodJSON
		}
		st.Active, st.Candidate, st.Failed, st.Phase, st.LastGoodJSON = b.Release, "", "", PhaseDone, good
		st.SwitchedAt = o.now()
		return c.writeState(ctx, b.App, st)
	}
	if len(st.LastGoodJSON) == 0 {
		st.Failed, st.Phase = b.Release, PhaseFailed
		_ = c.writeState(context.WithoutCancel(ctx), b.App, st)
		return fmt.Errorf("%w\nno earlier release to roll back to", werr)
	}
	o.Progress.printf("release %s failed; rolling back to %s", b.Release, st.Active)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if rerr := c.restoreDeployment(rctx, st.LastGoodJSON, o.Progress); rerr != nil {
		return fmt.Errorf("%w\nrolling back failed too: %v", werr, rerr)
	}
	st.Candidate, st.Failed, st.Phase = "", b.Release, PhaseRolledBack
	_ = c.writeState(rctx, b.App, st)
	return fmt.Errorf("%w\nrolled back to release %s", werr, st.Active)
}

// errAborted is the cause of a rolling update's wait cut short by a user's abort.
var errAborted = errors.New("aborted by the user")

// takeAbort waits for a user's request to abort the rollout of app (`pyship abort`, or Ctrl-C
// in the deploying command), takes it and calls abort: a rolling update then rolls back as one
// that failed, as the engine of the other strategies takes the same request between two steps.
func (c *Client) takeAbort(ctx context.Context, app string, abort context.CancelCauseFunc) {
	ok, err := c.waitState(ctx, app, 0, func(s *State) bool { return s.Request == RequestAbort })
	if err != nil || !ok {
		return
	}
	if err := c.applyRequest(ctx, app, ""); err == nil {
		abort(errAborted)
	}
}

// restoreDeployment applies a Deployment saved in the state (taking its fields back from any
// other manager) and waits until it is rolled out.
func (c *Client) restoreDeployment(ctx context.Context, saved []byte, progress Progress) error {
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(saved, &u.Object); err != nil {
		return fmt.Errorf("reading the saved Deployment: %w", err)
	}
	if _, err := c.ApplyObject(ctx, u, true, false); err != nil {
		return err
	}
	return c.WaitDeployment(ctx, u.GetName(), progress)
}

// Rollback returns the app to its previous release: for rolling updates the Deployment of the
// release before the active one (or the active one itself, when a rolling update of another
// release was left unfinished); for blue-green and canary the previous release's pods behind
// the Service. The release rolled back from becomes the previous one, so a second rollback
// returns to it.
func (c *Client) Rollback(ctx context.Context, b *Bundle, o DeployOptions) error {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if b.Strategy == rollout.Rolling || b.Strategy == "" {
		return c.rollbackRolling(ctx, b.App, st, o)
	}
	if st.Previous == "" {
		return fmt.Errorf("rollback: %s has no previous release on namespace %s (deploy twice first, and within the rollback window)", b.App, c.Namespace)
	}
	prev := st.Previous
	if ok, err := c.releaseExists(ctx, b.App, prev); err != nil || !ok {
		return fmt.Errorf("rollback: the previous release %s of %s is gone (the rollback window passed); deploy it again instead", prev, b.App)
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

// rollbackRolling re-applies the saved Deployment of the release to return to and records the
// switch: the releases swap places, so the next rollback undoes this one.
func (c *Client) rollbackRolling(ctx context.Context, app string, st *State, o DeployOptions) error {
	if st.Candidate != "" && len(st.LastGoodJSON) > 0 {
		// A rolling update that never finished (a killed deploy): back to the active release.
		o.Progress.printf("the rollout of %s did not finish: restoring release %s", st.Candidate, st.Active)
		if err := c.restoreDeployment(ctx, st.LastGoodJSON, o.Progress); err != nil {
			return err
		}
		st.Candidate, st.Failed, st.Phase = "", st.Candidate, PhaseRolledBack
		return c.writeState(ctx, app, st)
	}
	if st.Previous == "" || len(st.PreviousJSON) == 0 {
		return fmt.Errorf("rollback: %s has no previous release recorded in namespace %s (a rolling rollback needs two successful deploys)", app, c.Namespace)
	}
	o.Progress.printf("rolling %s back from release %s to %s", app, st.Active, st.Previous)
	werr := c.restoreDeployment(ctx, st.PreviousJSON, o.Progress)
	var re *RolloutError
	if werr != nil && !errors.As(werr, &re) {
		return werr // nothing was applied
	}
	st.Active, st.Previous = st.Previous, st.Active
	st.LastGoodJSON, st.PreviousJSON = st.PreviousJSON, st.LastGoodJSON
	st.Candidate, st.Phase, st.SwitchedAt = "", PhaseRolledBack, o.now()
	if err := c.writeState(context.WithoutCancel(ctx), app, st); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("rollback: release %s was re-applied but did not become available: %w", st.Active, werr)
	}
	return nil
}
