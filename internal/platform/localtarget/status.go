package localtarget

import (
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
)

// appStatus is the agent's status of an app in the platform's shape; Detail keeps the
// agent's own, which the text form shows.
func appStatus(a agent.AppStatus) platform.AppStatus {
	out := platform.AppStatus{App: a.App, Target: platform.Local, URL: a.URL, Worker: a.Worker, Stopped: a.Stopped,
		Active: a.Stable, Releases: []platform.ReleaseStatus{}, Detail: a}
	d := a.Deploy
	if d != nil {
		rs := &platform.RolloutStatus{Release: d.Spec.Release, Strategy: d.Spec.Strategy, Phase: d.Phase, Held: d.Held, Message: d.Message}
		rs.Analysis = platform.AnalysisOf(d.Analysis)
		if d.Phase == rollout.RolledBack {
			out.Failed = d.Spec.Release
		}
		out.Rollout = rs
	}
	out.Backup = a.Backup
	for _, r := range a.Releases {
		rs := platform.ReleaseStatus{ID: r.ID, Version: r.Version, Created: r.Created, Weight: r.Weight, Replicas: len(r.Replicas)}
		switch {
		case r.ID == a.Stable:
			rs.Role = "active"
		case d != nil && !d.Terminal() && r.ID == d.Spec.Release:
			rs.Role = "candidate"
			if d.Spec.Strategy == rollout.Canary {
				out.Rollout.Weight = r.Weight
			}
		}
		for _, rep := range r.Replicas {
			if rep.Health == rollout.Ready {
				rs.Ready++
			}
			rs.Restarts += rep.Restarts
			rs.Instances = append(rs.Instances, platform.Instance{ID: rep.ID, Health: rep.Health, Port: rep.Port, PID: rep.PID, Restarts: rep.Restarts, Diagnosis: rep.Diagnosis})
		}
		if !a.Worker {
			rs.Traffic = &platform.Traffic{Requests: r.Requests, Refused: r.Refused, Rate: r.Rate, ErrorRate: r.ErrorRate,
				P50: platform.Duration(r.P50), P95: platform.Duration(r.P95), P99: platform.Duration(r.P99)}
		}
		out.Releases = append(out.Releases, rs)
	}
	return out
}
