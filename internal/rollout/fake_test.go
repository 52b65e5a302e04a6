package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// fakeTarget runs replicas in memory: a started replica becomes ready (or failed, for the
// releases in fail) on the next observation.
type fakeTarget struct {
	mu       sync.Mutex
	reps     []Replica
	weights  map[string]int
	fail     map[string]bool
	metrics  map[string]Metrics
	next     int
	traffic  bool  // every metrics read adds 100 healthy requests
	blind    bool  // Metrics says ErrNoMetrics
	down     error // Metrics fails with it
	maxAlive int   // most replicas alive at once
	history  []map[string]int
	// linger makes a stopped replica stay Stopping for one observation (a terminating pod);
	// overlap records a Start while another release had a replica alive or stopping.
	linger  bool
	overlap []string
}

func newFake() *fakeTarget {
	return &fakeTarget{weights: map[string]int{}, fail: map[string]bool{}, metrics: map[string]Metrics{}}
}

func (f *fakeTarget) Replicas(context.Context) ([]Replica, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]Replica(nil), f.reps...)
	f.reps = slices.DeleteFunc(f.reps, func(r Replica) bool { return r.Health == Stopping })
	for i := range f.reps {
		if f.reps[i].Health == Starting {
			f.reps[i].Health = Ready
			if f.fail[f.reps[i].Release] {
				f.reps[i].Health, f.reps[i].Diagnosis = Failed, "exited with status 1"
			}
		}
	}
	return out, nil
}

func (f *fakeTarget) Start(_ context.Context, release string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reps {
		if r.Release != release {
			f.overlap = append(f.overlap, fmt.Sprintf("%s started while %s was %s", release, r.ID, r.Health))
		}
	}
	for range n {
		f.next++
		f.reps = append(f.reps, Replica{ID: fmt.Sprintf("%s-%d", release, f.next), Release: release, Health: Starting})
	}
	f.maxAlive = max(f.maxAlive, len(f.reps))
	return nil
}

func (f *fakeTarget) Stop(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keep []Replica
	for _, r := range f.reps {
		stop := slices.Contains(ids, r.ID) && r.Health != Stopping
		if stop && f.linger {
			r.Health, stop = Stopping, false
		}
		if !stop {
			keep = append(keep, r)
		}
	}
	f.reps = keep
	return nil
}

func (f *fakeTarget) SetWeights(_ context.Context, w map[string]int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.weights = maps.Clone(w)
	f.history = append(f.history, maps.Clone(w))
	return nil
}

func (f *fakeTarget) Weights(context.Context) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.weights), nil
}

func (f *fakeTarget) Metrics(_ context.Context, release string) (Metrics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.blind {
		return Metrics{}, fmt.Errorf("no Prometheus: %w", ErrNoMetrics)
	}
	if f.down != nil {
		return Metrics{}, f.down
	}
	m := f.metrics[release]
	if f.traffic {
		f.metrics[release] = add(m, hist(100, 0, time.Millisecond))
	}
	return m, nil
}

func add(a, b Metrics) Metrics {
	out := Metrics{Requests: a.Requests + b.Requests, Errors: a.Errors + b.Errors, Bounds: b.Bounds, Counts: make([]int64, len(b.Counts))}
	for i := range b.Counts {
		out.Counts[i] = b.Counts[i]
		if i < len(a.Counts) {
			out.Counts[i] += a.Counts[i]
		}
	}
	return out
}

func (f *fakeTarget) releases() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, r := range f.reps {
		if r.Health != Stopping {
			out[r.Release]++
		}
	}
	return out
}

// fakeClock advances only when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}
