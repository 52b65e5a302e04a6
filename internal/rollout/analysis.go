package rollout

import (
	"fmt"
	"time"
)

// Outcome is the result of a canary analysis.
type Outcome string

// Outcomes.
const (
	Pass         Outcome = "pass"
	Fail         Outcome = "fail"
	Inconclusive Outcome = "inconclusive" // not enough traffic or data, Prometheus not answering, or a burn-rate hold: never a silent pass
)

// Verdict is a canary analysis result with the figures it was based on.
type Verdict struct {
	Outcome        Outcome       `json:"outcome"`
	Reason         string        `json:"reason"`
	CanaryRequests int64         `json:"canaryRequests"`
	CanaryErrRate  float64       `json:"canaryErrorRate"`
	StableErrRate  float64       `json:"stableErrorRate"`
	CanaryP95      time.Duration `json:"canaryP95"`
	StableP95      time.Duration `json:"stableP95"`
	// Checks are the PromQL checks as judged, each with its resolved query, value and
	// thresholds.
	Checks []CheckResult `json:"checks,omitempty"`
	// Unreachable: inconclusive because Prometheus did not answer; never promoted by
	// no_traffic, aborted once no_traffic_after has passed. Hold: inconclusive because the
	// SLO burn rate is too high; held, never promoted by no_traffic.
	Unreachable bool `json:"unreachable,omitempty"`
	Hold        bool `json:"hold,omitempty"`
}

// latencyFloor is the smallest stable p95 latency ratios are computed against, so that
// sub-millisecond noise between histogram buckets cannot fail a canary.
const latencyFloor = 5 * time.Millisecond

// Judge compares the canary's and the stable release's metrics over the same window (both
// already reduced to the window with Metrics.Sub).
func Judge(c CanaryConfig, canary, stable Metrics) Verdict {
	v := Verdict{CanaryRequests: canary.Requests, CanaryP95: canary.Quantile(0.95), StableP95: stable.Quantile(0.95)}
	if canary.Requests > 0 {
		v.CanaryErrRate = float64(canary.Errors) / float64(canary.Requests)
	}
	if stable.Requests > 0 {
		v.StableErrRate = float64(stable.Errors) / float64(stable.Requests)
	}
	if canary.Requests < int64(c.MinRequests) {
		v.Outcome = Inconclusive
		v.Reason = fmt.Sprintf("not enough traffic: the canary got %d of the %d requests needed to judge it", canary.Requests, c.MinRequests)
		return v
	}
	if v.CanaryErrRate > c.MaxErrorRate {
		v.Outcome = Fail
		v.Reason = fmt.Sprintf("canary 5xx rate %.1f%% is above the %.1f%% allowed (stable: %.1f%%)", 100*v.CanaryErrRate, 100*c.MaxErrorRate, 100*v.StableErrRate)
		return v
	}
	if stable.Requests >= int64(c.MinRequests) {
		base := max(v.StableP95, latencyFloor)
		if ratio := float64(v.CanaryP95) / float64(base); ratio > c.MaxLatencyRatio {
			v.Outcome = Fail
			v.Reason = fmt.Sprintf("canary p95 latency %s is %.2f× stable's %s (at most %.2f× allowed)", v.CanaryP95, ratio, v.StableP95, c.MaxLatencyRatio)
			return v
		}
		v.Outcome = Pass
		v.Reason = fmt.Sprintf("canary 5xx rate %.1f%%, p95 %s (stable p95 %s) over %d requests", 100*v.CanaryErrRate, v.CanaryP95, v.StableP95, canary.Requests)
		return v
	}
	v.Outcome = Pass
	v.Reason = fmt.Sprintf("canary 5xx rate %.1f%% over %d requests; latency not compared: stable got only %d requests", 100*v.CanaryErrRate, canary.Requests, stable.Requests)
	return v
}

// Unmeasured is the verdict of a canary step on a target without request metrics (why says
// why there are none): the step passes on the health of its replicas, which Decide checks
// before every step, and the reason says what was not compared.
func Unmeasured(why error) Verdict {
	return Verdict{Outcome: Pass, Reason: fmt.Sprintf("replicas ready and not restarting; 5xx rate and latency not compared (%v)", why)}
}

// WorkerVerdict is the verdict of a worker's canary step: a worker serves nothing to measure,
// so the step passes on its replicas' health (checked before every step) and its pause.
func WorkerVerdict() Verdict {
	return Verdict{Outcome: Pass, Reason: "a worker: its replicas are ready and not restarting after the pause"}
}

// ApplyVerdict returns the status after a canary analysis at now: a pass moves to the next
// step, a failure starts the rollback, an inconclusive result waits one more pause with the
// window kept open, and says so.
func ApplyVerdict(st Status, v Verdict, now time.Time) Status {
	c := st.Spec.Canary
	if waited := now.Sub(st.StepStarted); v.Outcome == Inconclusive && !st.StepStarted.IsZero() && c.NoTrafficAfter > 0 && waited >= c.NoTrafficAfter {
		switch {
		case v.Unreachable:
			// A blind canary is never promoted, and not kept forever either.
			v.Outcome = Fail
			v.Reason = fmt.Sprintf("%s, for %s (no_traffic_after): rolling back, as a canary nobody can measure is never promoted", v.Reason, c.NoTrafficAfter)
		case v.Hold:
			st.Held = true
		case c.NoTraffic == NoTrafficPromote:
			v.Outcome = Pass
			v.Reason = fmt.Sprintf("%s within %s; passed on its replicas' health (no_traffic = \"promote\")", v.Reason, c.NoTrafficAfter)
		case c.NoTraffic == NoTrafficAbort:
			v.Outcome = Fail
			v.Reason = fmt.Sprintf("%s within %s (no_traffic = \"abort\")", v.Reason, c.NoTrafficAfter)
		default:
			st.Held = true
		}
	}
	st.Analysis = &v
	switch v.Outcome {
	case Pass:
		st.Step++
		st.StepStarted, st.AnalyzeAt, st.Held = time.Time{}, time.Time{}, false
		st.Message = "canary analysis passed: " + v.Reason
	case Fail:
		st.Phase = RollingBack
		st.Message = "canary analysis failed: " + v.Reason
	default:
		st.AnalyzeAt = now.Add(c.Pause)
		switch {
		case v.Unreachable:
			st.Message = fmt.Sprintf("canary paused, %s; it rolls back if Prometheus does not answer within %s of the step's start, or run `pyship promote` or `pyship abort`", v.Reason, c.NoTrafficAfter)
		case v.Hold && st.Held:
			st.Message = fmt.Sprintf("canary holds at step %d: %s; `pyship promote` to go on, or `pyship abort` to roll back", st.Step+1, v.Reason)
		case v.Hold:
			st.Message = "canary paused: " + v.Reason
		case st.Held:
			st.Message = fmt.Sprintf("canary holds at step %d: %s within %s; it waits for traffic, or `pyship promote` to go on, or `pyship abort` to roll back", st.Step+1, v.Reason, c.NoTrafficAfter)
		default:
			st.Message = "canary paused, " + v.Reason + "; send traffic, or run `pyship promote` or `pyship abort`"
		}
	}
	return st
}
