package agent

import (
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

func cumulative(requests, errors int64) rollout.Metrics {
	// Every request under 10 ms except the errors, which took a second.
	return rollout.Metrics{Requests: requests, Errors: errors, Bounds: []time.Duration{10 * time.Millisecond, time.Second},
		Counts: []int64{requests - errors, requests}}
}

func TestHistoryRingIsBounded(t *testing.T) {
	const size = 10
	h := newHistory(size, time.Second)
	t0 := time.Unix(1_700_000_000, 0)
	var n int64
	for i := range 10 * size {
		n += 50
		h.add(t0.Add(time.Duration(i)*time.Second), map[string]rollout.Metrics{"r1": cumulative(n, n/50)})
	}
	s := h.snapshot()
	pts := s["r1"]
	if len(pts) != size || len(s[allReleases]) != size {
		t.Fatalf("after %d samples the series hold %d and %d points, want %d", 10*size, len(pts), len(s[allReleases]), size)
	}
	if cap(h.series["r1"].buf) != size {
		t.Errorf("the ring grew to %d", cap(h.series["r1"].buf))
	}
	for i, p := range pts {
		if want := t0.Add(time.Duration(9*size+i) * time.Second); !p.At.Equal(want) {
			t.Fatalf("point %d is at %v, want %v (the newest %d, oldest first)", i, p.At, want, size)
		}
		if p.Rate != 50 || p.ErrorRate != 1.0/50 || p.P50 != 0.01 || p.P95 != 0.01 || p.P99 != 1 {
			t.Fatalf("point %d = %+v, want 50 req/s, 2 %% errors, p50 and p95 10 ms, p99 1 s", i, p)
		}
	}
}

func TestHistoryDropsGoneReleasesAndRestartedCounters(t *testing.T) {
	h := newHistory(5, time.Second)
	t0 := time.Unix(1_700_000_000, 0)
	h.add(t0, map[string]rollout.Metrics{"r1": cumulative(10, 0), "r2": cumulative(10, 0)})
	if s := h.snapshot(); len(s) != 0 {
		t.Fatalf("the first sample is a baseline only, got %v", s)
	}
	h.add(t0.Add(2*time.Second), map[string]rollout.Metrics{"r1": cumulative(30, 0), "r2": cumulative(14, 4)})
	s := h.snapshot()
	if r1, r2, all := s["r1"], s["r2"], s[allReleases]; len(r1) != 1 || r1[0].Rate != 10 || len(r2) != 1 || r2[0].ErrorRate != 1 ||
		len(all) != 1 || all[0].Rate != 12 || all[0].ErrorRate != 4.0/24 || all[0].P99 != 1 {
		t.Fatalf("series = %+v", s)
	}
	// r1 was pruned; r2's proxy restarted (its counters went down): a new baseline, no point.
	h.add(t0.Add(3*time.Second), map[string]rollout.Metrics{"r2": cumulative(2, 0)})
	s = h.snapshot()
	if _, ok := s["r1"]; ok {
		t.Errorf("the series of the removed release r1 stays: %+v", s["r1"])
	}
	if len(s["r2"]) != 1 {
		t.Errorf("a restarted counter made a point: %+v", s["r2"])
	}
	if h.due(t0.Add(3500*time.Millisecond)) || !h.due(t0.Add(4*time.Second)) {
		t.Errorf("due does not follow the 1 s step")
	}
}
