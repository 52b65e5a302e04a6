package rollout

import (
	"fmt"
	"time"
)

// Strategy is how a new release replaces the stable one.
type Strategy string

// Strategies.
const (
	Rolling   Strategy = "rolling"
	BlueGreen Strategy = "blue-green"
	Canary    Strategy = "canary"
	// Recreate stops every replica of the stable release, waits until they are gone, then
	// starts the new release: never two releases at once (a single-writer volume, a lock),
	// at the price of downtime during each deploy.
	Recreate Strategy = "recreate"
)

// ParseStrategy validates a strategy name ("" means rolling).
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(s) {
	case "":
		return Rolling, nil
	case Rolling, BlueGreen, Canary, Recreate:
		return Strategy(s), nil
	}
	return "", fmt.Errorf("unknown deploy strategy %q: use rolling, blue-green, canary or recreate ([deploy] strategy)", s)
}

// CanaryConfig holds the canary steps and analysis thresholds.
type CanaryConfig struct {
	Steps       []int         `json:"steps"`
	Pause       time.Duration `json:"pause"`
	MinRequests int           `json:"minRequests"`
	// MaxErrorRate is the highest acceptable 5xx ratio of the canary (0-1).
	MaxErrorRate float64 `json:"maxErrorRate"`
	// MaxLatencyRatio is the highest acceptable canary p95 / stable p95.
	MaxLatencyRatio float64 `json:"maxLatencyRatio"`
	// NoTraffic is what a step does once NoTrafficAfter has passed since it started without
	// MinRequests reaching the canary: hold it (the default), promote it on its replicas'
	// health, or abort the deploy.
	NoTraffic      NoTrafficPolicy `json:"noTraffic,omitempty"`
	NoTrafficAfter time.Duration   `json:"noTrafficAfter,omitempty"`
	// Checks are PromQL checks judged with every step, against the engine's Prometheus.
	Checks []Check `json:"checks,omitempty"`
	// MaxBurnRate, when set, holds a step while the app's SLO burn rate (BurnRateQuery with
	// Objective, the availability objective as a fraction) is above it.
	MaxBurnRate float64 `json:"maxBurnRate,omitempty"`
	Objective   float64 `json:"objective,omitempty"`
}

// NoTrafficPolicy is what a canary step without enough traffic comes to.
type NoTrafficPolicy string

// The no-traffic policies.
const (
	// NoTrafficHold keeps the step and says so (Status.Held): send traffic, or promote or
	// abort by hand. Nothing unmeasured is promoted by itself.
	NoTrafficHold NoTrafficPolicy = "hold"
	// NoTrafficPromote passes the step on the replicas' health and the time waited.
	NoTrafficPromote NoTrafficPolicy = "promote"
	// NoTrafficAbort rolls the deploy back.
	NoTrafficAbort NoTrafficPolicy = "abort"
)

// ParseNoTraffic checks a [deploy.canary] no_traffic value ("" is hold).
func ParseNoTraffic(s string) (NoTrafficPolicy, error) {
	switch p := NoTrafficPolicy(s); p {
	case "":
		return NoTrafficHold, nil
	case NoTrafficHold, NoTrafficPromote, NoTrafficAbort:
		return p, nil
	}
	return "", fmt.Errorf("unknown no_traffic %q: use hold, promote or abort ([deploy.canary] no_traffic)", s)
}

// WithDefaults fills unset fields: steps 10,50,100, pause 30s, 50 requests, 1% errors, ratio 1.5.
func (c CanaryConfig) WithDefaults() CanaryConfig {
	if len(c.Steps) == 0 {
		c.Steps = []int{10, 50, 100}
	}
	if c.Steps[len(c.Steps)-1] != 100 {
		c.Steps = append(append([]int(nil), c.Steps...), 100)
	}
	if c.Pause <= 0 {
		c.Pause = 30 * time.Second
	}
	if c.MinRequests <= 0 {
		c.MinRequests = 50
	}
	if c.MaxErrorRate <= 0 {
		c.MaxErrorRate = 0.01
	}
	if c.MaxLatencyRatio <= 0 {
		c.MaxLatencyRatio = 1.5
	}
	if c.NoTraffic == "" {
		c.NoTraffic = NoTrafficHold
	}
	if c.NoTrafficAfter <= 0 {
		c.NoTrafficAfter = max(2*time.Minute, 2*c.Pause)
	}
	return c
}

// Spec is what a deploy asks for.
type Spec struct {
	// Release is the release being rolled out; Stable the release serving before ("" for none).
	Release  string       `json:"release"`
	Stable   string       `json:"stable,omitempty"`
	Strategy Strategy     `json:"strategy"`
	Replicas int          `json:"replicas"`
	Canary   CanaryConfig `json:"canary"`
	// RollbackWindow is how long blue-green keeps the old set warm after the switch.
	RollbackWindow time.Duration `json:"rollbackWindow"`
	// ReplicaWeights says the target has no traffic router: traffic follows the replica
	// counts, so each canary step scales both releases (CanaryReplicas) instead of weighting a
	// full new set. Weights are still set, to record the step.
	ReplicaWeights bool `json:"replicaWeights,omitempty"`
	// Worker says the app serves no requests: the weights still say which release is live,
	// but what the deploy says is put in terms of replicas, never traffic.
	Worker bool `json:"worker,omitempty"`
}

// Phase is where a deploy stands.
type Phase string

// Phases.
const (
	Progressing Phase = "progressing"
	RollingBack Phase = "rolling-back"
	Succeeded   Phase = "succeeded"
	RolledBack  Phase = "rolled-back"
)

// Status is the whole state of a deploy: the engine reads and returns it, the caller persists
// it, and the engine resumes from it after a crash.
type Status struct {
	Spec  Spec  `json:"spec"`
	Phase Phase `json:"phase"`
	// Message says what the deploy waits for or why it rolled back.
	Message string `json:"message,omitempty"`
	// Doing is the reason of the last decision.
	Doing string `json:"doing,omitempty"`
	// Step is the index of the current canary step; StepStarted when its weight was set.
	Step        int       `json:"step"`
	StepStarted time.Time `json:"stepStarted,omitzero"`
	AnalyzeAt   time.Time `json:"analyzeAt,omitzero"`
	// CanaryBase and StableBase are the metrics when the step started.
	CanaryBase Metrics `json:"canaryBase"`
	StableBase Metrics `json:"stableBase"`
	// Analysis is the last canary verdict.
	Analysis *Verdict `json:"analysis,omitempty"`
	// SwitchedAt is when the new release got all the traffic.
	SwitchedAt time.Time `json:"switchedAt,omitzero"`
	// Promote skips the remaining canary steps; Abort rolls back. Both are set by users.
	Promote bool `json:"promote,omitempty"`
	Abort   bool `json:"abort,omitempty"`
	// Held is set while a canary step waits for a decision: it got too little traffic to be
	// judged within NoTrafficAfter, and the policy is to hold.
	Held bool `json:"held,omitempty"`
}

// NewStatus is the status of a deploy that has not started.
func NewStatus(spec Spec) Status {
	if spec.Replicas < 1 {
		spec.Replicas = 1
	}
	if spec.Strategy == "" {
		spec.Strategy = Rolling
	}
	if spec.Strategy == Canary {
		spec.Canary = spec.Canary.WithDefaults()
	}
	return Status{Spec: spec, Phase: Progressing}
}

// Terminal reports whether the deploy has finished (old replicas may still be retiring).
func (s Status) Terminal() bool { return s.Phase == Succeeded || s.Phase == RolledBack }
