package kube

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// canaryReplicas splits total replicas for a canary at weight percent. With a traffic router
// (HTTPRoute weights) stable keeps all its replicas; by replica ratio the two add up to total.
func canaryReplicas(total, weight int, router bool) (stable, canary int) {
	canary = (total*weight + 99) / 100
	canary = min(max(canary, 1), total)
	if router {
		return total, canary
	}
	if weight >= 100 {
		return 0, total
	}
	return max(total-canary, 1), canary
}

// deployCanary shifts traffic to the new release step by step, analysing its pods at each step
// and returning everything to the stable release when a step fails.
func (c *Client) deployCanary(ctx context.Context, b *Bundle, o DeployOptions) error {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	stable := st.Active
	if ok, err := c.releaseExists(ctx, b.App, stable); err != nil {
		return err
	} else if !ok || stable == b.Release {
		stable = ""
	}
	router := b.find("HTTPRoute", "") != nil
	serving := stable
	if serving == "" {
		serving = b.Release
	}
	if stable != "" { // recorded first, so a deploy killed from here on can be aborted or rerun
		st.Candidate, st.Phase = b.Release, "canary"
		if err := c.writeState(ctx, b.App, st); err != nil {
			return err
		}
	}
	if _, err := c.Apply(ctx, rolloutBundle(b, serving), ApplyOptions{Prune: o.Prune, Force: o.Force, Progress: o.Progress}); err != nil {
		return err
	}
	if err := c.finalize(ctx, b.App, st, o, b.Release); err != nil {
		return err
	}
	if stable == "" { // first release, or the same one again: no canary to run
		if err := c.startRelease(ctx, b, o); err != nil {
			return err
		}
		if err := c.SetTraffic(ctx, b, b.Release, "", 0); err != nil {
			return err
		}
		st.Active, st.Candidate, st.Phase, st.CanaryWeight = b.Release, "", "done", ""
		return c.writeState(ctx, b.App, st)
	}
	steps := o.Steps
	if len(steps) == 0 || steps[len(steps)-1] != 100 {
		steps = append(append([]int{}, steps...), 100)
	}
	for _, w := range steps {
		if err := c.canaryStep(ctx, b, o, stable, w, router); err != nil {
			o.Progress.printf("canary %s failed at %d%%: returning all traffic to %s", b.Release, w, stable)
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if aerr := c.abortCanary(rctx, b, o, stable, st); aerr != nil {
				return fmt.Errorf("%w\naborting the canary failed too: %v", err, aerr)
			}
			return fmt.Errorf("%w\nrolled back: all traffic is on release %s", err, stable)
		}
		st.CanaryWeight = strconv.Itoa(w)
		if err := c.writeState(ctx, b.App, st); err != nil {
			return err
		}
	}
	st.Previous, st.Active, st.Candidate, st.Failed, st.Phase, st.CanaryWeight, st.SwitchedAt = stable, b.Release, "", "", "done", "", o.now()
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	return c.finalize(ctx, b.App, st, o, "")
}

// canaryStep moves the canary to weight percent, waits for its pods, holds the step for the
// pause and analyses the canary's readiness and restarts.
func (c *Client) canaryStep(ctx context.Context, b *Bundle, o DeployOptions, stable string, weight int, router bool) error {
	ns, nc := canaryReplicas(o.Replicas, weight, router)
	o.Progress.printf("canary %s at %d%%: %d canary, %d stable replicas", b.Release, weight, nc, ns)
	if err := c.ScaleRelease(ctx, b.App, b.Release, nc); err != nil {
		return err
	}
	if err := c.WaitRelease(ctx, b.App, b.Release, nc, o.Progress); err != nil {
		return err
	}
	if weight == 100 {
		if err := c.SetTraffic(ctx, b, b.Release, "", 0); err != nil {
			return err
		}
	} else if err := c.SetTraffic(ctx, b, stable, b.Release, weight); err != nil {
		return err
	}
	if err := c.ScaleRelease(ctx, b.App, stable, ns); err != nil {
		return err
	}
	if err := c.WaitRelease(ctx, b.App, stable, ns, o.Progress); err != nil {
		return err
	}
	if o.Pause > 0 && weight < 100 {
		t := time.NewTimer(o.Pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	h, err := c.Health(ctx, b.App, b.Release)
	if err != nil {
		return err
	}
	if !h.Healthy() {
		return fmt.Errorf("canary %s failed its analysis at %d%%: %d/%d pods ready, %d restarts", b.Release, weight, h.Ready, h.Total, h.Restarts)
	}
	if o.Analyze != nil {
		if err := o.Analyze(ctx, stable, b.Release, weight); err != nil {
			return fmt.Errorf("canary %s failed its analysis at %d%%: %w", b.Release, weight, err)
		}
	}
	return nil
}

func (c *Client) abortCanary(ctx context.Context, b *Bundle, o DeployOptions, stable string, st *State) error {
	if err := c.ScaleRelease(ctx, b.App, stable, o.Replicas); err != nil {
		return err
	}
	if err := c.SetTraffic(ctx, b, stable, "", 0); err != nil {
		return err
	}
	if err := c.ScaleRelease(ctx, b.App, b.Release, 0); err != nil {
		return err
	}
	st.Candidate, st.Failed, st.Phase, st.CanaryWeight = "", b.Release, "rolled-back", ""
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	return c.WaitRelease(ctx, b.App, stable, o.Replicas, o.Progress)
}

// Abort stops a blue-green or canary rollout left half-way (a killed deploy): the candidate is
// scaled down and all traffic returns to the active release.
func (c *Client) Abort(ctx context.Context, b *Bundle, o DeployOptions) error {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if st.Candidate == "" {
		return fmt.Errorf("abort: no rollout of %s is in progress in namespace %s", b.App, c.Namespace)
	}
	if st.Active == "" {
		return fmt.Errorf("abort: %s has no active release to return to; use destroy", b.App)
	}
	cb := *b
	cb.Release = st.Candidate
	return c.abortCanary(ctx, &cb, o, st.Active, st)
}
