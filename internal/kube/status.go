package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pyship/pyship/internal/rollout"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReleaseStatus is one release of the app on the cluster.
type ReleaseStatus struct {
	Release    string        `json:"release"`
	Deployment string        `json:"deployment"`
	Image      string        `json:"image"`
	Replicas   int32         `json:"replicas"`
	Health     ReleaseHealth `json:"health"`
	// Role is "active", "previous", "candidate" or "".
	Role string `json:"role,omitempty"`
}

// AppStatus is the app's rollout state and its releases.
type AppStatus struct {
	State    State           `json:"state"`
	Releases []ReleaseStatus `json:"releases"`
	// Analysis is the last canary verdict of the rollout in progress, with its checks.
	Analysis *rollout.Verdict `json:"analysis,omitempty"`
}

// Status reads the app's rollout state and the health of each of its Deployments.
func (c *Client) Status(ctx context.Context, app string) (*AppStatus, error) {
	st, err := c.ReadState(ctx, app)
	if err != nil {
		return nil, err
	}
	list, err := c.Core.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + app + "," + LabelManagedBy + "=" + ManagedBy})
	if err != nil {
		return nil, fmt.Errorf("status of %s: listing its Deployments in namespace %s: %w", app, c.Namespace, err)
	}
	out := &AppStatus{State: *st}
	var inProgress rollout.Status
	if st.RolloutJSON != nil && json.Unmarshal(st.RolloutJSON, &inProgress) == nil {
		out.Analysis = inProgress.Analysis
	}
	out.State.LastGoodJSON, out.State.PreviousJSON, out.State.RolloutJSON = nil, nil, nil
	for _, d := range list.Items {
		rel := d.Spec.Template.Labels[LabelRelease]
		rs := ReleaseStatus{Release: rel, Deployment: d.Name, Image: d.Spec.Template.Spec.Containers[0].Image}
		if d.Spec.Replicas != nil {
			rs.Replicas = *d.Spec.Replicas
		}
		switch rel {
		case st.Active:
			rs.Role = "active"
		case st.Previous:
			rs.Role = "previous"
		case st.Candidate:
			rs.Role = "candidate"
		}
		if rs.Health, err = c.Health(ctx, app, rel); err != nil {
			return nil, err
		}
		out.Releases = append(out.Releases, rs)
	}
	sort.Slice(out.Releases, func(i, j int) bool { return out.Releases[i].Deployment < out.Releases[j].Deployment })
	return out, nil
}
