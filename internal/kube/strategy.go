package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/rollout"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	watchtools "k8s.io/client-go/tools/watch"
)

// deployReleases rolls a release out with rollout.Engine, whatever the strategy, so every step
// and analysis is decided by the same pure functions as on the local target: the new release
// gets its own Deployment beside the serving one, traffic moves to it once its pods are ready
// (at once for blue-green, through the steps for a canary, replica by replica for rolling,
// whose Service selects the pods of every release), and a failed release is rolled back. A
// first release that fails or is aborted leaves nothing behind (forgetNeverServed).
func (c *Client) deployReleases(ctx context.Context, b *Bundle, o DeployOptions) error {
	if b.Strategy == rollout.BlueGreen && b.find("Service", b.App) == nil {
		return fmt.Errorf("blue-green needs a Service, but %s is a worker without a port; use the rolling strategy", b.App)
	}
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if err := c.adoptLegacy(ctx, b.App, st, o); err != nil {
		return err
	}
	stable := st.Active
	if ok, err := c.releaseExists(ctx, b.App, stable); err != nil {
		return err
	} else if !ok || stable == b.Release {
		stable = ""
	}
	serving := stable
	if serving == "" {
		serving = b.Release
	}
	if st.Request != "" { // left over from a deploy that ended before taking it
		if err := c.applyRequest(ctx, b.App, ""); err != nil {
			return err
		}
	}
	first := st.Active == ""   // the app never served: an abort stops the release
	if stable != "" || first { // recorded first, so a deploy killed from here on can be aborted or rerun
		st.Candidate, st.Phase = b.Release, PhaseProgressing
		if b.Strategy == rollout.Canary {
			st.Phase = PhaseCanary
		}
		if err := c.writeState(ctx, b.App, st); err != nil {
			return err
		}
	}
	rb := rolloutBundle(b, serving)
	live, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, DeploymentName(b.App, b.Release), metav1.GetOptions{})
	switch {
	case isNotFound(err) || (err == nil && live.Spec.Replicas != nil && *live.Spec.Replicas == 0):
		// Created with no replica: the engine starts each one (and so owns the field, which
		// drift then sees another manager take). Applied again while still at zero (a deploy
		// killed before it started any), it stays there: left out, the field pyship's apply
		// set would be removed and default to one replica, started beside the serving release.
		_ = unstructured.SetNestedField(rb.Deployment().Object, int64(0), "spec", "replicas")
	case err != nil:
		return fmt.Errorf("reading the Deployment of release %s: %w", b.Release, err)
	}
	if stable != "" { // aimed at the release serving when the rollout ends: resumeAutoscaler
		pauseAutoscaler(rb, o.Progress)
	}
	if stable != "" && st.Candidate == b.Release { // run again: traffic stays where it was
		if live, err := (&releaseTarget{c: c, b: b}).Weights(ctx); err == nil && len(live) > 0 {
			keepRouting(rb, b.Release, live)
		}
	}
	if _, err := c.Apply(ctx, rb, ApplyOptions{Prune: o.Prune, Force: o.Force, Progress: o.Progress}); err != nil {
		if first {
			err = errors.Join(err, c.forgetNeverServed(context.WithoutCancel(ctx), b.App))
		}
		return err
	}
	if err := c.finalize(ctx, b.App, st, o, b.Release); err != nil {
		return err
	}
	final, err := c.runEngine(ctx, b, o, st, resume(st, o.rolloutSpec(b, stable)))
	if err != nil {
		return err // interrupted: the autoscaler stays paused until the deploy is run again
	}
	serving = b.Release
	if final.Phase != rollout.Succeeded {
		serving = stable
	}
	if stable != "" {
		if err := c.resumeAutoscaler(context.WithoutCancel(ctx), b, serving, o.Force, o.Progress); err != nil {
			return err
		}
	}
	if final.Phase != rollout.Succeeded {
		switch {
		case first:
			if err := c.forgetNeverServed(context.WithoutCancel(ctx), b.App); err != nil {
				return fmt.Errorf("%s\n%w", final.Message, err)
			}
			return errors.New(final.Message + "\nno earlier release to roll back to: release " + b.Release + " was stopped, and nothing of " + b.App + " is left on the cluster (its volumes are kept)")
		case stable == "":
			return errors.New(final.Message + "\nno earlier release to roll back to")
		}
		if b.Strategy == rollout.Recreate {
			return fmt.Errorf("%s\nrolled back: release %s runs again (recreate: %s served nothing while %s started, nor while %s restarted)", final.Message, stable, b.App, b.Release, stable)
		}
		return fmt.Errorf("%s\nrolled back: all traffic is on release %s", final.Message, stable)
	}
	if stable != "" {
		st.Previous, st.SwitchedAt = stable, o.now()
		st.RetireAfter = st.SwitchedAt.Add(o.RollbackWindow)
	}
	st.Active, st.Candidate, st.Failed, st.CanaryWeight, st.RolloutJSON = b.Release, "", "", "", nil
	st.Phase = PhaseDone
	if b.Strategy == rollout.BlueGreen {
		st.Phase = PhaseSwitched
	}
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	return c.finalize(ctx, b.App, st, o, "")
}

// rolloutSpec is what the engine is asked to do: roll release b out over stable ("" for none).
func (o DeployOptions) rolloutSpec(b *Bundle, stable string) rollout.Spec {
	strategy := b.Strategy
	if strategy == "" {
		strategy = rollout.Rolling
	}
	return rollout.Spec{Release: b.Release, Stable: stable, Strategy: strategy, Replicas: o.Replicas,
		RollbackWindow: o.RollbackWindow, ReplicaWeights: (&releaseTarget{b: b}).router() == "replicas",
		Worker: b.find("Service", "") == nil, // a worker has no Service: it serves no requests
		// An unset pause holds no step: 1ns, as the engine gives a zero pause its 30s default.
		Canary: rollout.CanaryConfig{Steps: o.Steps, Pause: max(o.Pause, time.Nanosecond), MinRequests: o.MinRequests,
			MaxErrorRate: o.MaxErrorRate, MaxLatencyRatio: o.MaxLatencyRatio, NoTraffic: o.NoTraffic, NoTrafficAfter: o.NoTrafficAfter,
			Checks: o.Checks, MaxBurnRate: o.MaxBurnRate, Objective: o.Objective}}
}

// runEngine drives the engine from status until it is done, recording the candidate, phase
// and canary weight on the app's state as it goes. When ctx times out (or the cluster fails)
// half-way, the release is diagnosed and rolled back on a fresh context; a cancelled ctx (a
// killed deploy) leaves the state for a rerun or Abort.
func (c *Client) runEngine(ctx context.Context, b *Bundle, o DeployOptions, st *State, status rollout.Status) (rollout.Status, error) {
	t := &releaseTarget{c: c, b: b, startup: o.StartupTimeout, started: o.now(), now: o.now, metrics: o.Metrics, force: o.Force}
	wake, stop := c.watchPods(ctx, b.App)
	defer stop()
	last, judged := "", (*rollout.Verdict)(nil)
	runCtx := ctx // the context of the engine's current run, for Save and Intervene
	e := &rollout.Engine{Target: t, Clock: wakeClock{now: o.now, wake: wake}, Poll: time.Second,
		Prometheus: o.Prometheus, Vars: promql.Vars{App: b.App, Namespace: c.Namespace},
		Intervene: func(s *rollout.Status) {
			switch req, err := c.takeRequest(runCtx, b.App); {
			case err != nil:
				o.Progress.printf("warning: reading requests to the deploy: %v", err)
			case req == RequestPromote:
				o.Progress.printf("promote requested: all traffic to %s", b.Release)
				s.Promote = true
			case req == RequestAbort:
				s.Abort = true
			}
		},
		Observe: func(_ rollout.Status, d rollout.Decision) {
			if d.Reason != "" && d.Reason != last && d.Action != rollout.Done {
				o.Progress.printf("%s", d.Reason)
			}
			last = d.Reason
		},
		Save: func(s rollout.Status) error {
			if s.Analysis != nil && s.Analysis != judged {
				o.Progress.printf("%s", s.Message)
				for _, l := range s.Analysis.Explain() {
					o.Progress.printf("  %s", l)
				}
				judged = s.Analysis
			}
			if s.Spec.Stable == "" || s.Terminal() {
				return nil // a first release has nothing to resume; the caller records the end
			}
			if s.Spec.Strategy == rollout.Canary && s.Phase == rollout.Progressing {
				st.CanaryWeight = fmt.Sprint(s.Spec.Canary.Steps[min(s.Step, len(s.Spec.Canary.Steps)-1)])
			}
			raw, err := json.Marshal(s)
			if err != nil {
				return err
			}
			st.RolloutJSON = raw
			return c.writeState(runCtx, b.App, st)
		},
	}
	final, err := e.Run(ctx, status)
	if err == nil && final.Terminal() {
		if final.Phase == rollout.RolledBack {
			c.recordFailure(ctx, b, st)
		}
		return final, nil
	}
	if errors.Is(err, context.Canceled) {
		return final, fmt.Errorf("the deploy of release %s was interrupted: run it again to finish it, or abort it: %w", b.Release, err)
	}
	why := "it was not live in time"
	if err != nil && ctx.Err() == nil {
		why = err.Error()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	msg := fmt.Sprintf("release %s failed: %s", b.Release, why)
	for _, d := range c.Diagnose(rctx, releaseSelector(b.App, b.Release)) {
		msg += "\n  " + d
	}
	o.Progress.printf("release %s failed; rolling back", b.Release)
	final.Phase, final.Message = rollout.RollingBack, msg
	e.Clock, runCtx = wakeClock{now: o.now}, rctx
	final, rerr := e.Run(rctx, final)
	if rerr != nil {
		return final, fmt.Errorf("%s\nrolling back failed too: %v", msg, rerr)
	}
	c.recordFailure(rctx, b, st)
	return final, nil
}

// resume is the engine's status to start from: the one saved by a deploy of the same release
// over the same stable release that was killed half-way, else a new one.
func resume(st *State, spec rollout.Spec) rollout.Status {
	var saved rollout.Status
	if st.Candidate == spec.Release && st.RolloutJSON != nil && json.Unmarshal(st.RolloutJSON, &saved) == nil &&
		saved.Spec.Release == spec.Release && saved.Spec.Stable == spec.Stable && !saved.Terminal() {
		saved.Spec = rollout.NewStatus(spec).Spec // the options of this run
		return saved
	}
	return rollout.NewStatus(spec)
}

// recordFailure notes on the state that release b failed and its rollout is over.
func (c *Client) recordFailure(ctx context.Context, b *Bundle, st *State) {
	st.Candidate, st.Failed, st.CanaryWeight, st.RolloutJSON = "", b.Release, "", nil
	st.Phase = PhaseRolledBack
	if st.Active == "" || st.Active == b.Release {
		st.Phase = PhaseFailed
	}
	_ = c.writeState(context.WithoutCancel(ctx), b.App, st)
}

// watchPods signals wake whenever a pod of the app changes, so the engine reacts to the
// cluster's events rather than waiting out its poll; stop ends the watch.
func (c *Client) watchPods(ctx context.Context, app string) (wake <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	w, err := c.Core.CoreV1().Pods(c.Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + app})
	if err != nil {
		return ch, func() {} // the engine's poll still sees every change
	}
	go func() {
		for ev := range w.ResultChan() {
			if _, ok := ev.Object.(*corev1.Pod); ok {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch, w.Stop
}

// wakeClock is clock.Real with another source of the time.
type wakeClock struct {
	now  func() time.Time
	wake <-chan struct{}
}

func (w wakeClock) Now() time.Time { return w.now() }

func (w wakeClock) Sleep(ctx context.Context, d time.Duration) error {
	return clock.Real{Wake: w.wake}.Sleep(ctx, d)
}

// Abort stops the rollout in progress: a deploy still running is asked to roll back and Abort
// waits until it has; a rollout whose deploy was killed is rolled back here through the engine
// (abortKilled). Either way all traffic returns to the active release and the candidate is
// scaled down; a first release is stopped and the app, which never served, removed.
func (c *Client) Abort(ctx context.Context, b *Bundle, o DeployOptions) error {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if st.Candidate == "" {
		return fmt.Errorf("abort: no rollout of %s is in progress in namespace %s", b.App, c.Namespace)
	}
	if err := c.adoptLegacy(ctx, b.App, st, o); err != nil {
		return err
	}
	if st.Candidate == "" { // an earlier pyship's unfinished rolling update, gone with its Deployment
		return nil
	}
	if err := c.applyRequest(ctx, b.App, RequestAbort); err != nil {
		return err
	}
	if taken, err := c.waitState(ctx, b.App, requestWait, func(s *State) bool { return s.Request == "" }); err != nil {
		return err
	} else if taken {
		o.Progress.printf("the running deploy of %s is rolling back", st.Candidate)
		if _, err := c.waitState(ctx, b.App, 0, func(s *State) bool { return s.Candidate == "" }); err != nil {
			return fmt.Errorf("abort: waiting for the deploy of %s to roll back: %w", st.Candidate, err)
		}
		return nil
	}
	// Nobody took the request: the deploy was killed (or has just ended); roll back here.
	if err := c.applyRequest(ctx, b.App, ""); err != nil {
		return err
	}
	if st, err = c.ReadState(ctx, b.App); err != nil {
		return err
	}
	if st.Candidate == "" {
		return fmt.Errorf("abort: the rollout of %s ended before it could be aborted (pyship status shows how)", b.App)
	}
	return c.abortKilled(ctx, b, st, o)
}

// abortKilled rolls back the rollout of st.Candidate, whose deploy is not running, through the
// engine from the status it saved: the active release gets all its replicas and the traffic
// back, the candidate is scaled to zero. A first release is stopped and the app removed.
func (c *Client) abortKilled(ctx context.Context, b *Bundle, st *State, o DeployOptions) error {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 5 * time.Minute
	}
	cb := *b
	cb.Release = st.Candidate
	active := st.Active
	status := resume(st, o.rolloutSpec(&cb, active))
	status.Phase, status.Message = rollout.RollingBack, "aborted by the user"
	final, err := c.runEngine(ctx, &cb, o, st, status)
	if err != nil {
		return err
	}
	if active == "" {
		return c.forgetNeverServed(ctx, b.App)
	}
	if err := c.resumeAutoscaler(ctx, &cb, active, o.Force, o.Progress); err != nil {
		return err
	}
	if final.Phase != rollout.RolledBack {
		return fmt.Errorf("abort: the rollout of %s ended %s: %s", cb.Release, final.Phase, final.Message)
	}
	return nil
}

// forgetNeverServed removes what a first release that failed or was aborted left, as the local
// target does: the app never served, so no release of it stays in status, no Service, no
// rollout state, and the name is free. Its persistent volume claims are kept.
func (c *Client) forgetNeverServed(ctx context.Context, app string) error {
	if _, err := c.Destroy(ctx, app, false, nil); err != nil {
		return fmt.Errorf("cleaning up after the failed first release of %s: %w", app, err)
	}
	return nil
}

// requestWait is how long a running deploy may take to take a request: its engine looks at
// least every second, between two steps.
const requestWait = 5 * time.Second

// waitState watches the app's inventory Secret until done holds for its state, for at most
// limit (0: until ctx ends); it reports whether done held.
func (c *Client) waitState(ctx context.Context, app string, limit time.Duration, done func(*State) bool) (bool, error) {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	api := c.Core.CoreV1().Secrets(c.Namespace)
	lw := byName(ctx, ApplySetParentName(app), api.List, api.Watch)
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Secret{}, nil, func(ev watch.Event) (bool, error) {
		s, ok := ev.Object.(*corev1.Secret)
		switch {
		case !ok:
			return false, nil
		case ev.Type == watch.Deleted: // the app is gone (a first release aborted): no state
			return done(&State{}), nil
		}
		return done(stateOf(s)), nil
	})
	switch {
	case err == nil:
		return true, nil
	case limit > 0 && ctx.Err() != nil:
		return false, nil
	}
	return false, err
}
