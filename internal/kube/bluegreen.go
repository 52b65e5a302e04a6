package kube

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deployBlueGreen starts the new release beside the serving one, moves the Service selector
// once it is available and healthy, and keeps the old one for the rollback window.
func (c *Client) deployBlueGreen(ctx context.Context, b *Bundle, o DeployOptions) error {
	if b.find("Service", b.App) == nil {
		return fmt.Errorf("blue-green needs a Service, but %s is a worker without a port; use the rolling strategy", b.App)
	}
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	active := st.Active
	if ok, err := c.releaseExists(ctx, b.App, active); err != nil {
		return err
	} else if !ok {
		active = ""
	}
	serving := active
	if serving == "" {
		serving = b.Release
	}
	if active != b.Release { // recorded first, so a deploy killed from here on can be aborted or rerun
		st.Candidate, st.Phase = b.Release, "progressing"
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
	if err := c.startRelease(ctx, b, o); err != nil {
		if active == b.Release || active == "" {
			return err
		}
		o.Progress.printf("release %s failed; traffic stays on %s", b.Release, active)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = c.ScaleRelease(rctx, b.App, b.Release, 0)
		st.Candidate, st.Failed, st.Phase = "", b.Release, "rolled-back"
		_ = c.writeState(rctx, b.App, st)
		return fmt.Errorf("%w\nrolled back: the Service still selects release %s", err, active)
	}
	if active == b.Release {
		return nil
	}
	o.Progress.printf("switching Service %s to release %s", b.App, b.Release)
	if err := c.SetTraffic(ctx, b, b.Release, "", 0); err != nil {
		return err
	}
	st.Previous, st.Active, st.Candidate, st.Failed, st.Phase, st.SwitchedAt = active, b.Release, "", "", "switched", o.now()
	if err := c.writeState(ctx, b.App, st); err != nil {
		return err
	}
	return c.finalize(ctx, b.App, st, o, "")
}

// startRelease scales the release up, waits for it and checks its health gate.
func (c *Client) startRelease(ctx context.Context, b *Bundle, o DeployOptions) error {
	if err := c.ScaleRelease(ctx, b.App, b.Release, o.Replicas); err != nil {
		return err
	}
	if err := c.WaitRelease(ctx, b.App, b.Release, o.Replicas, o.Progress); err != nil {
		return err
	}
	h, err := c.Health(ctx, b.App, b.Release)
	if err != nil {
		return err
	}
	if !h.Healthy() {
		return fmt.Errorf("release %s failed its health gate: %d/%d pods ready, %d restarts", b.Release, h.Ready, h.Total, h.Restarts)
	}
	return nil
}

// finalize scales the previous release to zero once the rollback window has passed and deletes
// releases that are neither active, previous nor keep.
func (c *Client) finalize(ctx context.Context, app string, st *State, o DeployOptions, keep string) error {
	if st.Previous != "" && !st.SwitchedAt.IsZero() && o.now().Sub(st.SwitchedAt) >= o.RollbackWindow {
		if ok, _ := c.releaseExists(ctx, app, st.Previous); ok {
			o.Progress.printf("rollback window of %s passed: scaling release %s down", o.RollbackWindow, st.Previous)
			if err := c.ScaleRelease(ctx, app, st.Previous, 0); err != nil {
				return err
			}
		}
	}
	list, err := c.Core.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + app + "," + LabelRelease})
	if err != nil {
		return fmt.Errorf("listing the releases of %s: %w", app, err)
	}
	for _, d := range list.Items {
		rel := d.Labels[LabelRelease]
		if d.Name != app+"-"+rel || rel == st.Active || rel == st.Previous || rel == keep || rel == st.Candidate {
			continue
		}
		o.Progress.printf("deleting old release %s", rel)
		if err := c.DeleteRelease(ctx, app, rel); err != nil {
			return err
		}
	}
	return nil
}

// Promote ends the rollback window now: the previous release is scaled down.
func (c *Client) Promote(ctx context.Context, app string, o DeployOptions) error {
	st, err := c.ReadState(ctx, app)
	if err != nil {
		return err
	}
	o.RollbackWindow = 0
	return c.finalize(ctx, app, st, o, "")
}
