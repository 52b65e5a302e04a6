package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
)

func runEngine(t *testing.T, f *fakeTarget, clk *fakeClock, spec Spec) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e := &Engine{Target: f, Clock: clk}
	st, err := e.Run(ctx, NewStatus(spec))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

func TestEngineStrategies(t *testing.T) {
	for _, s := range []Strategy{Rolling, BlueGreen, Canary, Recreate} {
		t.Run(string(s), func(t *testing.T) {
			f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
			f.linger = true // stopped replicas terminate for a while, as pods do
			runEngine(t, f, clk, Spec{Release: "r1", Strategy: s, Replicas: 3})
			// Enough canary traffic for every analysis to pass.
			f.traffic = true
			st := runEngine(t, f, clk, Spec{Release: "r2", Stable: "r1", Strategy: s, Replicas: 3, Canary: CanaryConfig{Pause: time.Second, MinRequests: 10}})
			if st.Phase != Succeeded {
				t.Fatalf("phase = %s (%s), want succeeded", st.Phase, st.Message)
			}
			if w, _ := f.Weights(context.Background()); w["r2"] != 100 {
				t.Errorf("weights = %v, want all on r2", w)
			}
			rel := f.releases()
			if rel["r2"] != 3 || rel["r1"] != 0 {
				t.Errorf("replicas = %v, want 3 of r2 and none of r1", rel)
			}
			if s == Rolling && f.maxAlive > 4 {
				t.Errorf("rolling had %d replicas alive at once, want at most 3+1", f.maxAlive)
			}
			if s == Recreate && len(f.overlap) > 0 {
				t.Errorf("recreate ran two releases at once: %v", f.overlap)
			}
			if s != Recreate && len(f.overlap) == 0 {
				t.Errorf("%s never overlapped releases: the overlap check checks nothing", s)
			}
		})
	}
}

func TestEngineRollsBackFailedRelease(t *testing.T) {
	for _, s := range []Strategy{Rolling, BlueGreen, Canary, Recreate} {
		t.Run(string(s), func(t *testing.T) {
			f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
			f.linger = true
			runEngine(t, f, clk, Spec{Release: "r1", Strategy: s, Replicas: 2})
			f.fail["r2"] = true
			st := runEngine(t, f, clk, Spec{Release: "r2", Stable: "r1", Strategy: s, Replicas: 2})
			if st.Phase != RolledBack {
				t.Fatalf("phase = %s, want rolled-back", st.Phase)
			}
			if st.Message == "" {
				t.Error("rollback without a reason")
			}
			for _, w := range f.history {
				if w["r2"] > 0 {
					t.Errorf("a failing release got traffic: %v", w)
				}
			}
			if rel := f.releases(); rel["r1"] != 2 || rel["r2"] != 0 {
				t.Errorf("replicas = %v, want 2 of r1 only", rel)
			}
			if s == Recreate && len(f.overlap) > 0 {
				t.Errorf("recreate ran two releases at once, rolling back included: %v", f.overlap)
			}
		})
	}
}

func TestEngineCanaryFailsAnalysis(t *testing.T) {
	f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
	runEngine(t, f, clk, Spec{Release: "r1", Replicas: 1})
	// The target's counters grow between the mark and the analysis: make r2 all errors.
	f.traffic = true
	e := &Engine{Target: f, Clock: clk, Observe: func(st Status, d Decision) {
		if d.Action == Analyze {
			f.metrics["r2"] = add(f.metrics["r2"], hist(100, 50, time.Millisecond))
		}
	}}
	st, err := e.Run(context.Background(), NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 1, Canary: CanaryConfig{Pause: time.Second, MinRequests: 10}}))
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != RolledBack || st.Analysis == nil || st.Analysis.Outcome != Fail {
		t.Fatalf("phase = %s, analysis = %+v; want rolled back on a failed analysis", st.Phase, st.Analysis)
	}
}

func TestEngineCanaryInconclusiveWaits(t *testing.T) {
	f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
	runEngine(t, f, clk, Spec{Release: "r1", Replicas: 1})
	e := &Engine{Target: f, Clock: clk}
	st := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 1, Canary: CanaryConfig{Pause: time.Second, MinRequests: 10}})
	var err error
	for i := 0; i < 100 && st.Analysis == nil; i++ {
		var d Decision
		if st, d, err = e.Step(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if d.Action == Wait {
			_ = clk.Sleep(context.Background(), time.Second)
		}
	}
	if st.Analysis == nil || st.Analysis.Outcome != Inconclusive || st.Phase != Progressing || st.Step != 0 {
		t.Fatalf("status = %+v; want an inconclusive analysis holding step 1", st)
	}
	if w, _ := f.Weights(context.Background()); w["r2"] != 10 {
		t.Errorf("weights = %v, want the canary held at 10%%", w)
	}
}

func TestEngineResumesAfterCrash(t *testing.T) {
	f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
	runEngine(t, f, clk, Spec{Release: "r1", Replicas: 3})
	var saved Status
	e := &Engine{Target: f, Clock: clk, Save: func(s Status) error { saved = s; return nil }}
	st := NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Rolling, Replicas: 3})
	saved = st
	for range 5 { // crash in the middle of the rollout
		if _, _, err := e.Step(context.Background(), saved); err != nil {
			t.Fatal(err)
		}
	}
	if rel := f.releases(); rel["r2"] == 0 {
		t.Fatalf("replicas = %v, expected the rollout under way", rel)
	}
	st, err := (&Engine{Target: f, Clock: clk}).Run(context.Background(), saved)
	if err != nil || st.Phase != Succeeded {
		t.Fatalf("resumed run: phase %s, err %v", st.Phase, err)
	}
	if rel := f.releases(); rel["r2"] != 3 || rel["r1"] != 0 {
		t.Errorf("replicas = %v, want 3 of r2", rel)
	}
}

func TestEngineCanaryWithoutMetricsPassesOnHealth(t *testing.T) {
	f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
	f.blind = true
	runEngine(t, f, clk, Spec{Release: "r1", Strategy: Canary, Replicas: 4})
	st := runEngine(t, f, clk, Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 4, ReplicaWeights: true, Canary: CanaryConfig{Steps: []int{25, 50}, Pause: time.Second}})
	if st.Phase != Succeeded {
		t.Fatalf("phase = %s (%s), want succeeded", st.Phase, st.Message)
	}
	if st.Analysis == nil || !strings.Contains(st.Analysis.Reason, "latency not compared") || !strings.Contains(st.Analysis.Reason, "no Prometheus") {
		t.Errorf("last analysis = %+v, want a pass saying what was not compared", st.Analysis)
	}
	if rel := f.releases(); rel["r2"] != 4 || rel["r1"] != 0 {
		t.Errorf("replicas = %v, want 4 of r2 and none of r1", rel)
	}
	// 3:1, 2:2, then 2:4 before stable drains: capacity never drops below 4.
	if f.maxAlive > 6 {
		t.Errorf("a replica-weighted canary had %d replicas alive at once, want at most 6", f.maxAlive)
	}
}

// A metrics source that does not answer (Prometheus down) makes the step inconclusive, not a
// failed deploy and never a pass: it waits, then rolls back after no_traffic_after even
// with no_traffic = "promote".
func TestEngineCanaryWithPrometheusDownRollsBack(t *testing.T) {
	f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
	runEngine(t, f, clk, Spec{Release: "r1", Strategy: Canary, Replicas: 2})
	f.down = &promql.Error{Kind: promql.ErrUnreachable, URL: "http://prom:9090", Query: "sum(x)", Err: errors.New("connection refused")}
	st := runEngine(t, f, clk, Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 2,
		Canary: CanaryConfig{Steps: []int{50}, Pause: time.Second, NoTraffic: NoTrafficPromote, NoTrafficAfter: 5 * time.Second}})
	if st.Phase != RolledBack || st.Analysis == nil || !st.Analysis.Unreachable || !strings.Contains(st.Message, "did not answer: connection refused") || !strings.Contains(st.Message, "never promoted") {
		t.Fatalf("phase %s, analysis %+v, message %q; want rolled back as Prometheus never answered", st.Phase, st.Analysis, st.Message)
	}
}

// A recreate deploy killed after any step, then resumed or aborted, ends with one release
// only, and at no point had two releases at once.
func TestEngineRecreateResumesAndAborts(t *testing.T) {
	for crashAfter := range 6 {
		for _, abort := range []bool{false, true} {
			f, clk := newFake(), &fakeClock{now: time.Unix(1e9, 0)}
			f.linger = true
			runEngine(t, f, clk, Spec{Release: "r1", Strategy: Recreate, Replicas: 2})
			var saved Status
			e := &Engine{Target: f, Clock: clk, Save: func(s Status) error { saved = s; return nil }}
			saved = NewStatus(Spec{Release: "r2", Stable: "r1", Strategy: Recreate, Replicas: 2})
			for range crashAfter {
				if _, _, err := e.Step(context.Background(), saved); err != nil {
					t.Fatal(err)
				}
			}
			saved.Abort = abort
			st, err := (&Engine{Target: f, Clock: clk}).Run(context.Background(), saved)
			want, live := Succeeded, "r2"
			if abort {
				want, live = RolledBack, "r1"
			}
			if err != nil || st.Phase != want {
				t.Fatalf("crash after %d steps, abort %v: phase %s, err %v; want %s", crashAfter, abort, st.Phase, err, want)
			}
			if rel := f.releases(); rel[live] != 2 || len(rel) != 1 {
				t.Errorf("crash after %d steps, abort %v: replicas = %v, want 2 of %s only", crashAfter, abort, rel, live)
			}
			if len(f.overlap) > 0 {
				t.Errorf("crash after %d steps, abort %v: two releases at once: %v", crashAfter, abort, f.overlap)
			}
		}
	}
}
