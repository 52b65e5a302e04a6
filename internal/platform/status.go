package platform

import (
	"time"

	"github.com/pyship/pyship/internal/duration"

	"github.com/pyship/pyship/internal/local/agent"

	"github.com/pyship/pyship/internal/rollout"
)

// AppStatus is a deployed app as `pyship status --output json` shows it: the same shape on
// every target, with what a user or script can act on and none of the engine's bookkeeping
// (metric baselines, the next analysis time, internal serials).
type AppStatus struct {
	App       string `json:"app"`
	Target    Target `json:"target"`
	Namespace string `json:"namespace,omitempty"`
	// URL is where the app answers ("" for a worker, or when the target does not know).
	URL string `json:"url,omitempty"`
	// Worker says the app serves no requests: no URL, ports or traffic figures.
	Worker  bool `json:"worker,omitempty"`
	Stopped bool `json:"stopped,omitempty"`
	// Active is the release serving; Previous the one `pyship rollback` returns to (when the
	// target records it); Failed the last release whose deploy failed.
	Active   string `json:"active,omitempty"`
	Previous string `json:"previous,omitempty"`
	Failed   string `json:"failed,omitempty"`
	// Rollout is the deploy in progress, or the last one (local).
	Rollout *RolloutStatus `json:"rollout,omitempty"`
	// RetirePreviousAfter is when the previous release's rollback window ends.
	RetirePreviousAfter time.Time `json:"retirePreviousAfter,omitzero"`
	// Backup is the app's backup schedule and last results (local; nil when it has neither).
	Backup   *agent.BackupStatus `json:"backup,omitempty"`
	Releases []ReleaseStatus     `json:"releases"`

	// Detail is the target's own status, which the text form shows (not part of the JSON).
	Detail any `json:"-"`
}

// RolloutStatus is a deploy: in progress, or how it ended.
type RolloutStatus struct {
	Release  string           `json:"release"`
	Strategy rollout.Strategy `json:"strategy,omitempty"`
	Phase    rollout.Phase    `json:"phase"`
	// Weight is the canary's share of traffic, in percent, while a canary is in progress.
	Weight int `json:"weight,omitempty"`
	// Held says a canary step waits for traffic or a decision (promote, abort).
	Held    bool   `json:"held,omitempty"`
	Message string `json:"message,omitempty"`
	// Analysis is the last canary verdict (nil for none).
	Analysis *Analysis `json:"analysis,omitempty"`
}

// Analysis is a canary verdict as status shows it: the outcome, why, and each PromQL check
// with its resolved query, value and thresholds.
type Analysis struct {
	Outcome rollout.Outcome       `json:"outcome"`
	Reason  string                `json:"reason"`
	Checks  []rollout.CheckResult `json:"checks,omitempty"`
}

// AnalysisOf is v as status shows it (nil for nil).
func AnalysisOf(v *rollout.Verdict) *Analysis {
	if v == nil {
		return nil
	}
	return &Analysis{Outcome: v.Outcome, Reason: v.Reason, Checks: v.Checks}
}

// Duration is how every duration is written in pyship's JSON: "1m30s", never nanoseconds.
type Duration = duration.Duration

// ReleaseStatus is one release of the app.
type ReleaseStatus struct {
	ID      string    `json:"id"`
	Version string    `json:"version,omitempty"`
	Image   string    `json:"image,omitempty"`
	Created time.Time `json:"created,omitzero"`
	// Role is active, previous, candidate, or "".
	Role string `json:"role,omitempty"`
	// Weight is its share of traffic in percent (local target).
	Weight int `json:"weight"`
	// Ready of Replicas are ready; Restarts counts its containers' restarts.
	Replicas int `json:"replicas"`
	Ready    int `json:"ready"`
	Restarts int `json:"restarts"`
	// Instances are its replicas one by one, where the target lists them.
	Instances []Instance `json:"instances,omitempty"`
	Traffic   *Traffic   `json:"traffic,omitempty"`
}

// Instance is one replica.
type Instance struct {
	ID        string         `json:"id"`
	Health    rollout.Health `json:"health"`
	Port      int            `json:"port,omitempty"`
	PID       int            `json:"pid,omitempty"`
	Restarts  int            `json:"restarts"`
	Diagnosis string         `json:"diagnosis,omitempty"`
}

// Traffic is what a release served: cumulative requests, and rates and latencies over the
// last seconds.
type Traffic struct {
	Requests  int64    `json:"requests"`
	Refused   int64    `json:"refused,omitempty"`
	Rate      float64  `json:"rate"`
	ErrorRate float64  `json:"errorRate"`
	P50       Duration `json:"p50"`
	P95       Duration `json:"p95"`
	P99       Duration `json:"p99"`
}
