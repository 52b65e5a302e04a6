package rollout

import (
	"strings"
	"testing"
	"time"
)

// A step without enough traffic waits a pause at a time; once NoTrafficAfter has passed since
// it started, its policy decides: hold (and say so), promote on health, or abort.
func TestNoTrafficPolicies(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	inconclusive := Verdict{Outcome: Inconclusive, Reason: "not enough traffic: the canary got 0 of the 50 requests needed to judge it"}
	for _, tc := range []struct {
		policy  NoTrafficPolicy
		waited  time.Duration
		phase   Phase
		step    int
		held    bool
		message string
	}{
		{NoTrafficHold, time.Minute, Progressing, 0, false, "canary paused, not enough traffic"},
		{NoTrafficPromote, time.Minute, Progressing, 0, false, "canary paused, not enough traffic"},
		{NoTrafficAbort, time.Minute, Progressing, 0, false, "canary paused, not enough traffic"},
		{NoTrafficHold, 2 * time.Minute, Progressing, 0, true, "canary holds at step 1: not enough traffic"},
		{"", 3 * time.Minute, Progressing, 0, true, "`pyship promote` to go on, or `pyship abort` to roll back"},
		{NoTrafficPromote, 2 * time.Minute, Progressing, 1, false, `passed on its replicas' health (no_traffic = "promote")`},
		{NoTrafficAbort, 2 * time.Minute, RollingBack, 0, false, `within 2m0s (no_traffic = "abort")`},
	} {
		spec := Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 2,
			Canary: CanaryConfig{Steps: []int{10, 100}, Pause: 30 * time.Second, NoTraffic: tc.policy, NoTrafficAfter: 2 * time.Minute}}
		st := NewStatus(spec)
		st.StepStarted = start
		got := ApplyVerdict(st, inconclusive, start.Add(tc.waited))
		if got.Phase != tc.phase || got.Step != tc.step || got.Held != tc.held || !strings.Contains(got.Message, tc.message) {
			t.Errorf("%q after %s: phase %s, step %d, held %v, message %q; want %s, %d, %v, %q",
				tc.policy, tc.waited, got.Phase, got.Step, got.Held, got.Message, tc.phase, tc.step, tc.held, tc.message)
		}
	}
	// A held step that then passes is no longer held.
	st := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Canary, Canary: CanaryConfig{Steps: []int{10, 100}}})
	st.Held, st.StepStarted = true, start
	if got := ApplyVerdict(st, Verdict{Outcome: Pass, Reason: "ok"}, start.Add(time.Hour)); got.Held || got.Step != 1 {
		t.Errorf("a held step that passes: held %v, step %d", got.Held, got.Step)
	}
	if _, err := ParseNoTraffic("wait"); err == nil || !strings.Contains(err.Error(), "use hold, promote or abort") {
		t.Errorf("ParseNoTraffic(wait) = %v", err)
	}
}
