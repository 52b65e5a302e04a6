package localtarget

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/rollout"
)

// The agent's status becomes the platform's shape: roles, the canary's weight, traffic with
// durations as strings, and none of the engine's bookkeeping.
func TestAppStatusIsTheDeliberateShape(t *testing.T) {
	d := rollout.NewStatus(rollout.Spec{Release: "r2", Stable: "r1", Strategy: rollout.Canary, Replicas: 1})
	d.CanaryBase = rollout.Metrics{Requests: 1234}
	d.AnalyzeAt = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	a := agent.AppStatus{App: "shop", URL: "http://127.0.0.1:8000", Stable: "r1", Serial: 42, Deploy: &d,
		Releases: []agent.ReleaseStatus{
			{ID: "r1", Version: "v1", Weight: 75, Replicas: []supervise.Info{{ID: "shop-r1-1", Health: rollout.Ready, Port: 9001, PID: 10, Restarts: 2}}, Requests: 10, P95: 1500 * time.Millisecond},
			{ID: "r2", Version: "v2", Weight: 25, Replicas: []supervise.Info{{ID: "shop-r2-2", Health: rollout.Starting, Backoff: time.Second}}},
		}}
	st := appStatus(a)
	if st.Active != "r1" || st.Rollout == nil || st.Rollout.Release != "r2" || st.Rollout.Weight != 25 || st.Rollout.Phase != rollout.Progressing {
		t.Fatalf("status %+v, rollout %+v", st, st.Rollout)
	}
	if r := st.Releases[0]; r.Role != "active" || r.Ready != 1 || r.Restarts != 2 || r.Replicas != 1 || r.Traffic == nil {
		t.Errorf("active release %+v", r)
	}
	if r := st.Releases[1]; r.Role != "candidate" || r.Ready != 0 || r.Replicas != 1 {
		t.Errorf("candidate release %+v", r)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	if !strings.Contains(js, `"p95":"1.5s"`) {
		t.Errorf("latency is not a duration string: %s", js)
	}
	for _, internal := range []string{"canaryBase", "analyzeAt", "serial", "backoff", "1500000000", "1234"} {
		if strings.Contains(js, internal) {
			t.Errorf("status JSON carries engine state %q: %s", internal, js)
		}
	}
}
