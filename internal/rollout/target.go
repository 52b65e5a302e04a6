package rollout

import (
	"context"
	"errors"
	"time"
)

// Target is what the engine drives: a place that runs replicas of releases behind a traffic
// router. The local target (processes behind pyship's proxy) and the Kubernetes target both
// implement it. Every method must be safe to call again with the same arguments.
type Target interface {
	// Replicas lists the replicas of every release of the app, with their health.
	Replicas(ctx context.Context) ([]Replica, error)
	// Start starts n more replicas of release.
	Start(ctx context.Context, release string, n int) error
	// Stop takes the replicas out of traffic, lets their in-flight requests finish (bounded by
	// the target's drain timeout) and stops them.
	Stop(ctx context.Context, ids []string) error
	// SetWeights atomically sets the percentage of traffic each release gets (summing to 100);
	// a release absent from weights gets none.
	SetWeights(ctx context.Context, weights map[string]int) error
	// Weights returns the traffic percentages in effect.
	Weights(ctx context.Context) (map[string]int, error)
	// Metrics returns the cumulative request metrics of release as seen by the traffic router,
	// or an error wrapping ErrNoMetrics when the target has no source of request metrics.
	Metrics(ctx context.Context, release string) (Metrics, error)
}

// ErrNoMetrics is wrapped by Target.Metrics errors when nothing measures requests: a canary
// step is then judged on its replicas' health alone, and the verdict says so.
var ErrNoMetrics = errors.New("no request metrics")

// Health is the state of one replica.
type Health string

// Replica states.
const (
	Starting Health = "starting" // started, not yet ready
	Ready    Health = "ready"    // passing its readiness check; may receive traffic
	Failed   Health = "failed"   // crashed, or not ready within its startup timeout
	// Stopping is a replica stopped but not gone yet (a terminating pod): it gets no traffic
	// and is never stopped again, but still holds what it held (a ReadWriteOnce volume).
	// A target whose Stop returns once the replica is gone never reports it.
	Stopping Health = "stopping"
)

// Replica is one running (or failed) instance of a release.
type Replica struct {
	ID      string `json:"id"`
	Release string `json:"release"`
	Health  Health `json:"health"`
	// Diagnosis explains a failure: exit code, last log lines, probe result.
	Diagnosis string `json:"diagnosis,omitempty"`
}

// Metrics are cumulative request counters of one release.
type Metrics struct {
	// Requests are the app's responses plus the proxy's errors (502, 503, 504); Errors are
	// those with a 5xx status. Requests the proxy refused (4xx it answered itself, clients
	// that left) are the client's doing and counted in Refused only: they never fail a release.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	Refused  int64 `json:"refused,omitempty"`
	// Buckets is a cumulative latency histogram: Counts[i] requests took at most Bounds[i].
	Bounds []time.Duration `json:"bounds,omitempty"`
	Counts []int64         `json:"counts,omitempty"`
}

// LatencyBounds are the upper bounds of the latency histogram pyship's proxy keeps
// (pyship_request_duration_seconds): the usual thresholds (100ms, 200ms, 300ms, 500ms, 1s...)
// are bounds, so that a latency objective ([monitor] latency) is counted exactly.
func LatencyBounds() []time.Duration {
	return []time.Duration{
		500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 250 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond,
		750 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond,
		5 * time.Second, 10 * time.Second, 30 * time.Second,
	}
}

// Sub returns m minus an earlier snapshot of the same counters.
func (m Metrics) Sub(earlier Metrics) Metrics {
	out := Metrics{Requests: m.Requests - earlier.Requests, Errors: m.Errors - earlier.Errors, Refused: m.Refused - earlier.Refused, Bounds: m.Bounds}
	out.Counts = make([]int64, len(m.Counts))
	for i := range m.Counts {
		out.Counts[i] = m.Counts[i]
		if i < len(earlier.Counts) {
			out.Counts[i] -= earlier.Counts[i]
		}
	}
	return out
}

// Quantile returns the latency under which a fraction q of the requests completed, taking
// the upper bound of the bucket it falls in (0 when there are no requests).
func (m Metrics) Quantile(q float64) time.Duration {
	if m.Requests <= 0 || len(m.Bounds) == 0 {
		return 0
	}
	rank := int64(q*float64(m.Requests) + 0.999999)
	for i, c := range m.Counts {
		if c >= rank {
			return m.Bounds[i]
		}
	}
	return m.Bounds[len(m.Bounds)-1]
}
