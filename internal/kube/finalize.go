package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// finalize scales the previous release to zero once the rollback window has passed and deletes
// releases that are neither active, previous nor keep: each app keeps at most the Deployments
// of its active and previous releases (and of the one rolling out).
func (c *Client) finalize(ctx context.Context, app string, st *State, o DeployOptions, keep string) error {
	if st.Previous != "" && !st.SwitchedAt.IsZero() && o.now().Sub(st.SwitchedAt) >= o.RollbackWindow {
		d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, DeploymentName(app, st.Previous), metav1.GetOptions{})
		if err == nil && (d.Spec.Replicas == nil || *d.Spec.Replicas > 0) { // a rolling update's is at zero already
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
