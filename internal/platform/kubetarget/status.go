package kubetarget

import (
	"context"
	"strconv"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
)

// Status is the app's rollout state and releases in the namespace; "" app is refused, as a
// namespace holds many things that are not pyship's apps.
func (k *Platform) Status(ctx context.Context, app string) ([]platform.AppStatus, error) {
	st, err := k.c.Status(ctx, app)
	if err != nil {
		return nil, err
	}
	return []platform.AppStatus{appStatus(app, k.c.Namespace, st)}, nil
}

// appStatus is the cluster's status of app in the platform's shape; Detail keeps kube's own,
// which the text form shows.
func appStatus(app, ns string, st *kube.AppStatus) platform.AppStatus {
	s := st.State
	out := platform.AppStatus{App: app, Target: platform.Kubernetes, Namespace: ns, Active: s.Active, Previous: s.Previous, Failed: s.Failed,
		RetirePreviousAfter: s.RetireAfter, Releases: []platform.ReleaseStatus{}, Detail: st}
	if s.Candidate != "" {
		r := &platform.RolloutStatus{Release: s.Candidate, Phase: rollout.Progressing, Analysis: platform.AnalysisOf(st.Analysis)}
		r.Weight, _ = strconv.Atoi(s.CanaryWeight)
		if s.Phase == kube.PhaseCanary {
			r.Strategy = rollout.Canary
		}
		out.Rollout = r
	}
	for _, r := range st.Releases {
		out.Releases = append(out.Releases, platform.ReleaseStatus{ID: r.Release, Image: r.Image, Role: r.Role,
			Replicas: int(r.Replicas), Ready: r.Health.Ready, Restarts: int(r.Health.Restarts)})
	}
	return out
}
