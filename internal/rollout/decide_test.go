package rollout

import (
	"reflect"
	"testing"
	"time"
)

func reps(specs ...string) []Replica {
	// "release/id/health"
	var out []Replica
	for _, s := range specs {
		var rel, id, h string
		parts := []*string{&rel, &id, &h}
		i := 0
		for _, c := range s {
			if c == '/' {
				i++
				continue
			}
			*parts[i] += string(c)
		}
		out = append(out, Replica{ID: id, Release: rel, Health: Health(h)})
	}
	return out
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rolling := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Rolling, Replicas: 2})
	bg := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: BlueGreen, Replicas: 2, RollbackWindow: time.Minute})
	canary := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 1, Canary: CanaryConfig{Steps: []int{10, 50, 100}, Pause: 10 * time.Second}})
	ratio := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 4, ReplicaWeights: true, Canary: CanaryConfig{Steps: []int{25, 50, 100}, Pause: 10 * time.Second}})
	recreate := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Recreate, Replicas: 2})
	with := func(st Status, f func(*Status)) Status { f(&st); return st }
	back := func(st Status) Status { st.Phase = RollingBack; return st }
	tests := []struct {
		name    string
		st      Status
		reps    []Replica
		weights map[string]int
		now     time.Time
		want    Decision
	}{
		{"rolling surges one new replica", rolling, reps("r1/a/ready", "r1/b/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r2", N: 1}},
		{"rolling waits for the new replica", rolling, reps("r1/a/ready", "r1/b/ready", "r2/c/starting"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"rolling shifts weight to ready replicas", rolling, reps("r1/a/ready", "r1/b/ready", "r2/c/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 33, "r1": 67}}},
		{"rolling drains one old replica", rolling, reps("r1/a/ready", "r1/b/ready", "r2/c/ready"), map[string]int{"r1": 67, "r2": 33}, t0,
			Decision{Action: Stop, IDs: []string{"a"}}},
		{"rolling never exceeds one surge", rolling, reps("r1/b/ready", "r2/c/ready"), map[string]int{"r1": 50, "r2": 50}, t0,
			Decision{Action: Start, Release: "r2", N: 1}},
		{"rolling finishes when the old set is gone", rolling, reps("r2/c/ready", "r2/d/ready"), map[string]int{"r2": 100}, t0,
			Decision{Action: Promoted}},
		{"a failed new replica rolls back", rolling, append(reps("r1/a/ready", "r1/b/ready"), Replica{ID: "c", Release: "r2", Health: Failed, Diagnosis: "exit 3"}), map[string]int{"r1": 100}, t0,
			Decision{Action: Revert}},
		{"blue-green starts the full set", bg, reps("r1/a/ready", "r1/b/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r2", N: 2}},
		{"blue-green does not switch before all are ready", bg, reps("r1/a/ready", "r1/b/ready", "r2/c/ready", "r2/d/starting"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"blue-green switches at once", bg, reps("r1/a/ready", "r1/b/ready", "r2/c/ready", "r2/d/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 100}}},
		{"blue-green keeps the old set warm", with(bg, func(s *Status) { s.Phase, s.SwitchedAt = Succeeded, t0 }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r2": 100}, t0.Add(30 * time.Second),
			Decision{Action: Done, Until: t0.Add(time.Minute)}},
		{"blue-green retires the old set after the window", with(bg, func(s *Status) { s.Phase, s.SwitchedAt = Succeeded, t0 }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r2": 100}, t0.Add(time.Minute),
			Decision{Action: Stop, IDs: []string{"a"}}},
		{"first deploy goes straight to the full set", NewStatus(Spec{Release: "r1", Strategy: Canary, Replicas: 2}), nil, nil, t0,
			Decision{Action: Start, Release: "r1", N: 2}},
		{"canary sets the first step", canary, reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 10, "r1": 90}}},
		{"canary marks the step", canary, reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 90, "r2": 10}, t0,
			Decision{Action: MarkStep}},
		{"canary pauses", with(canary, func(s *Status) { s.StepStarted = t0 }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 90, "r2": 10}, t0.Add(5 * time.Second),
			Decision{Action: Wait, Until: t0.Add(10 * time.Second)}},
		{"canary analyses after the pause", with(canary, func(s *Status) { s.StepStarted = t0 }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 90, "r2": 10}, t0.Add(10 * time.Second),
			Decision{Action: Analyze}},
		{"canary promote skips steps", with(canary, func(s *Status) { s.Promote = true }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 90, "r2": 10}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 100, "r1": 0}}},
		{"abort rolls back", with(canary, func(s *Status) { s.Abort = true }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 90, "r2": 10}, t0,
			Decision{Action: Revert}},
		{"rollback restores stable traffic first", with(rolling, func(s *Status) { s.Phase = RollingBack }), reps("r1/a/ready", "r2/c/ready"), map[string]int{"r1": 50, "r2": 50}, t0,
			Decision{Action: Start, Release: "r1", N: 1}},
		{"rollback switches back before stopping", with(rolling, func(s *Status) { s.Phase = RollingBack }), reps("r1/a/ready", "r1/b/ready", "r2/c/ready"), map[string]int{"r1": 50, "r2": 50}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r1": 100}}},
		{"rollback stops the new release", with(rolling, func(s *Status) { s.Phase = RollingBack }), reps("r1/a/ready", "r1/b/ready", "r2/c/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Stop, IDs: []string{"c"}}},
		{"rollback ends when only stable remains", with(rolling, func(s *Status) { s.Phase = RollingBack }), reps("r1/a/ready", "r1/b/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Reverted}},
		{"replica canary starts only its share", ratio, reps("r1/a/ready", "r1/b/ready", "r1/c/ready", "r1/d/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r2", N: 1}},
		{"replica canary drains stable once the canary is ready", ratio, reps("r1/a/ready", "r1/b/starting", "r1/c/ready", "r1/d/ready", "r2/e/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Stop, IDs: []string{"b"}}},
		{"replica canary records the step's weight", ratio, reps("r1/a/ready", "r1/c/ready", "r1/d/ready", "r2/e/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 25, "r1": 75}}},
		{"replica canary grows at the next step", with(ratio, func(s *Status) { s.Step = 1 }), reps("r1/a/ready", "r1/c/ready", "r1/d/ready", "r2/e/ready"), map[string]int{"r1": 75, "r2": 25}, t0,
			Decision{Action: Start, Release: "r2", N: 1}},
		{"replica canary at 100% drains all of stable", with(ratio, func(s *Status) { s.Step = 2 }), reps("r1/a/ready", "r1/c/ready", "r2/e/ready", "r2/f/ready", "r2/g/ready", "r2/h/ready"), map[string]int{"r2": 100}, t0,
			Decision{Action: Stop, IDs: []string{"a", "c"}}},
		{"recreate stops the whole stable set before starting anything", recreate, reps("r1/a/ready", "r1/b/starting"), map[string]int{"r1": 100}, t0,
			Decision{Action: Stop, IDs: []string{"a", "b"}}},
		{"recreate waits until the stable set is gone, not just stopping", recreate, reps("r1/a/stopping", "r1/b/stopping"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"recreate waits for older releases to be gone too", recreate, reps("r0/z/stopping"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"recreate starts the full new set once the stable one is gone", recreate, nil, map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r2", N: 2}},
		{"recreate never surges while the new set starts", recreate, reps("r2/c/ready", "r2/d/starting"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"recreate gives the new set the traffic once all are ready", recreate, reps("r2/c/ready", "r2/d/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Weigh, Weights: map[string]int{"r2": 100}}},
		{"recreate is promoted", recreate, reps("r2/c/ready", "r2/d/ready"), map[string]int{"r2": 100}, t0,
			Decision{Action: Promoted}},
		{"recreate: a failed new replica rolls back", recreate, append(reps("r2/c/ready"), Replica{ID: "d", Release: "r2", Health: Failed}), map[string]int{"r1": 100}, t0,
			Decision{Action: Revert}},
		{"recreate rollback stops the new release before restarting stable", back(recreate), append(reps("r2/c/ready"), Replica{ID: "d", Release: "r2", Health: Failed}), map[string]int{"r1": 100}, t0,
			Decision{Action: Stop, IDs: []string{"c", "d"}}},
		{"recreate rollback waits until the new release is gone", back(recreate), reps("r2/c/stopping"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"recreate rollback waits for stable replicas still stopping", back(recreate), reps("r1/a/stopping"), map[string]int{"r1": 100}, t0,
			Decision{Action: Wait}},
		{"recreate rollback then restarts stable", back(recreate), nil, map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r1", N: 2}},
		{"recreate rollback ends with stable back", back(recreate), reps("r1/a/ready", "r1/b/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Reverted}},
		{"a first recreate deploy starts the full set", NewStatus(Spec{Release: "r1", Strategy: Recreate, Replicas: 2}), nil, nil, t0,
			Decision{Action: Start, Release: "r1", N: 2}},
		{"rolling does not wait for stopping replicas", rolling, reps("r1/a/ready", "r1/x/stopping"), map[string]int{"r1": 100}, t0,
			Decision{Action: Start, Release: "r2", N: 1}},
		{"older releases are retired first", rolling, reps("r0/z/ready", "r1/a/ready"), map[string]int{"r1": 100}, t0,
			Decision{Action: Stop, IDs: []string{"z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.st, Observation{Replicas: tt.reps, Weights: tt.weights, Now: tt.now})
			got.Reason = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCanaryReplicas(t *testing.T) {
	for _, tt := range []struct{ total, weight, stable, canary int }{
		{4, 25, 3, 1}, {4, 50, 2, 2}, {4, 100, 0, 4}, {4, 1, 3, 1}, {1, 10, 1, 1}, {1, 100, 0, 1}, {10, 33, 6, 4},
	} {
		if s, c := CanaryReplicas(tt.total, tt.weight); s != tt.stable || c != tt.canary {
			t.Errorf("CanaryReplicas(%d, %d) = %d, %d; want %d, %d", tt.total, tt.weight, s, c, tt.stable, tt.canary)
		}
	}
}

func hist(reqs, errs int64, p95 time.Duration) Metrics {
	bounds := []time.Duration{time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond, 100 * time.Millisecond, time.Second}
	m := Metrics{Requests: reqs, Errors: errs, Bounds: bounds, Counts: make([]int64, len(bounds))}
	for i, b := range bounds {
		if b >= p95 {
			m.Counts[i] = reqs
		} else {
			m.Counts[i] = reqs * 90 / 100
		}
	}
	return m
}

func TestJudge(t *testing.T) {
	c := CanaryConfig{MinRequests: 100, MaxErrorRate: 0.05, MaxLatencyRatio: 1.5}
	tests := []struct {
		name           string
		canary, stable Metrics
		want           Outcome
	}{
		{"healthy canary passes", hist(200, 1, 5*time.Millisecond), hist(2000, 0, 5*time.Millisecond), Pass},
		{"too few requests is inconclusive, not a pass", hist(99, 0, time.Millisecond), hist(2000, 0, time.Millisecond), Inconclusive},
		{"no traffic at all is inconclusive", Metrics{}, Metrics{}, Inconclusive},
		{"5xx above threshold fails", hist(200, 11, time.Millisecond), hist(2000, 0, time.Millisecond), Fail},
		{"5xx at threshold passes", hist(200, 10, time.Millisecond), hist(2000, 0, time.Millisecond), Pass},
		{"slow canary fails", hist(200, 0, 100*time.Millisecond), hist(2000, 0, 5*time.Millisecond), Fail},
		{"sub-floor latency noise passes", hist(200, 0, 5*time.Millisecond), hist(2000, 0, time.Millisecond), Pass},
		{"quiet stable skips latency", hist(200, 0, time.Second), hist(10, 0, time.Millisecond), Pass},
		{"refused requests are the clients', not the canary's", refused(hist(200, 0, time.Millisecond), 500), hist(2000, 0, time.Millisecond), Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(c, tt.canary, tt.stable)
			if v.Outcome != tt.want {
				t.Errorf("Judge() = %s (%s), want %s", v.Outcome, v.Reason, tt.want)
			}
			if v.Reason == "" {
				t.Error("verdict without a reason")
			}
		})
	}
}

func refused(m Metrics, n int64) Metrics { m.Refused = n; return m }

func TestQuantile(t *testing.T) {
	m := Metrics{Requests: 100, Bounds: []time.Duration{time.Millisecond, 10 * time.Millisecond, time.Second}, Counts: []int64{90, 96, 100}}
	if got := m.Quantile(0.95); got != 10*time.Millisecond {
		t.Errorf("p95 = %s, want 10ms", got)
	}
	if got := m.Quantile(0.5); got != time.Millisecond {
		t.Errorf("p50 = %s, want 1ms", got)
	}
	if got := m.Sub(m).Quantile(0.95); got != 0 {
		t.Errorf("p95 of an empty window = %s, want 0", got)
	}
}
