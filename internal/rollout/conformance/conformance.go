package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Releases are what the check may start: two releases whose replicas become ready, with no
// replica running yet.
type Releases struct {
	A, B string
	// Failing, when set, is a release whose replicas fail (exit, crash-loop).
	Failing string
	// Timeout bounds each wait for the target to converge (default 1m).
	Timeout time.Duration
}

// Check drives t through what a deploy does, and returns what broke the contract:
//   - Start(release, n) adds n replicas of that release, which become ready, and leaves the
//     replicas of other releases alone;
//   - SetWeights sets the traffic split, Weights reads it back, and setting it again is a no-op;
//   - Stop(ids) removes exactly those replicas, and stopping them again removes nothing more;
//     a stopped replica is listed Stopping (a terminating pod), or not at all, until it is
//     gone (the recreate strategy starts the next release only then), and it goes;
//   - a failing release's replicas are reported Failed, with a diagnosis;
//   - Metrics either reads cumulative counters (never going down) or says ErrNoMetrics.
func Check(ctx context.Context, t rollout.Target, r Releases) error {
	if r.Timeout <= 0 {
		r.Timeout = time.Minute
	}
	c := &checker{t: t, r: r}
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"start", c.start},
		{"weights", c.weights},
		{"stop", c.stop},
		{"metrics", c.metrics},
		{"failing release", c.failing},
	}
	for _, s := range steps {
		if err := s.f(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

type checker struct {
	t rollout.Target
	r Releases
}

// count is the replicas of release by health.
func count(reps []rollout.Replica, release string) (alive, ready, failed int, ids []string) {
	for _, rep := range reps {
		if rep.Release != release {
			continue
		}
		switch rep.Health {
		case rollout.Ready:
			ready++
			alive++
			ids = append(ids, rep.ID)
		case rollout.Starting:
			alive++
			ids = append(ids, rep.ID)
		case rollout.Failed:
			failed++
		}
	}
	slices.Sort(ids)
	return alive, ready, failed, ids
}

// until polls the target's replicas until ok holds, for at most the timeout.
func (c *checker) until(ctx context.Context, what string, ok func([]rollout.Replica) bool) ([]rollout.Replica, error) {
	ctx, cancel := context.WithTimeout(ctx, c.r.Timeout)
	defer cancel()
	var last []rollout.Replica
	for {
		reps, err := c.t.Replicas(ctx)
		if err == nil {
			last = reps
			if ok(reps) {
				return reps, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%s: not within %s (replicas %v, last error %v)", what, c.r.Timeout, last, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *checker) start(ctx context.Context) error {
	reps, err := c.t.Replicas(ctx)
	if err != nil {
		return fmt.Errorf("listing replicas: %w", err)
	}
	for _, rel := range []string{c.r.A, c.r.B} {
		if alive, _, _, _ := count(reps, rel); alive != 0 {
			return fmt.Errorf("release %s already runs %d replica(s): give releases with none", rel, alive)
		}
	}
	if err := c.t.Start(ctx, c.r.A, 2); err != nil {
		return fmt.Errorf("starting 2 replicas of %s: %w", c.r.A, err)
	}
	if _, err := c.until(ctx, "2 ready replicas of "+c.r.A, func(reps []rollout.Replica) bool {
		alive, ready, _, _ := count(reps, c.r.A)
		return alive == 2 && ready == 2
	}); err != nil {
		return err
	}
	if err := c.t.Start(ctx, c.r.B, 1); err != nil {
		return fmt.Errorf("starting 1 replica of %s: %w", c.r.B, err)
	}
	reps, err = c.until(ctx, "1 ready replica of "+c.r.B, func(reps []rollout.Replica) bool {
		alive, ready, _, _ := count(reps, c.r.B)
		return alive == 1 && ready == 1
	})
	if err != nil {
		return err
	}
	if alive, ready, _, _ := count(reps, c.r.A); alive != 2 || ready != 2 {
		return fmt.Errorf("starting %s changed %s: %d alive, %d ready, want 2 and 2", c.r.B, c.r.A, alive, ready)
	}
	return nil
}

// live is w without the releases that get nothing.
func live(w map[string]int) map[string]int {
	out := map[string]int{}
	for rel, v := range w {
		if v > 0 {
			out[rel] = v
		}
	}
	return out
}

func (c *checker) weights(ctx context.Context) error {
	for _, want := range []map[string]int{{c.r.A: 100}, {c.r.B: 100}, {c.r.B: 100}, {c.r.A: 100}} {
		if err := c.t.SetWeights(ctx, want); err != nil {
			return fmt.Errorf("setting %v: %w", want, err)
		}
		got, err := c.t.Weights(ctx)
		if err != nil {
			return fmt.Errorf("reading the weights after setting %v: %w", want, err)
		}
		if !maps.Equal(live(got), want) {
			return fmt.Errorf("set %v, read back %v", want, got)
		}
	}
	return nil
}

func (c *checker) stop(ctx context.Context) error {
	reps, err := c.t.Replicas(ctx)
	if err != nil {
		return err
	}
	_, _, _, ids := count(reps, c.r.A)
	if len(ids) != 2 {
		return fmt.Errorf("want 2 replicas of %s, have %v", c.r.A, ids)
	}
	one := ids[:1]
	if err := c.t.Stop(ctx, one); err != nil {
		return fmt.Errorf("stopping %v: %w", one, err)
	}
	if _, err := c.until(ctx, "1 replica of "+c.r.A+" left", func(reps []rollout.Replica) bool {
		alive, _, _, _ := count(reps, c.r.A)
		return alive == 1
	}); err != nil {
		return err
	}
	if _, err := c.until(ctx, "the stopped replica of "+c.r.A+" to be gone, not just stopping", func(reps []rollout.Replica) bool {
		return len(slices.DeleteFunc(slices.Clone(reps), func(rep rollout.Replica) bool { return rep.Release != c.r.A })) == 1
	}); err != nil {
		return err
	}
	// Every method must be safe to call again with the same arguments: a rerun after a crash.
	if err := c.t.Stop(ctx, one); err != nil {
		return fmt.Errorf("stopping %v again: %w", one, err)
	}
	if err := c.t.Stop(ctx, one); err != nil {
		return fmt.Errorf("stopping %v a third time: %w", one, err)
	}
	reps, err = c.until(ctx, "the replicas to settle", func(reps []rollout.Replica) bool {
		alive, ready, _, _ := count(reps, c.r.A)
		return alive == ready
	})
	if err != nil {
		return err
	}
	if alive, _, _, left := count(reps, c.r.A); alive != 1 {
		return fmt.Errorf("stopping %v again stopped more: %d replica(s) of %s alive (%v), want 1", one, alive, c.r.A, left)
	}
	if alive, _, _, _ := count(reps, c.r.B); alive != 1 {
		return fmt.Errorf("stopping a replica of %s changed %s: %d alive, want 1", c.r.A, c.r.B, alive)
	}
	return nil
}

func (c *checker) metrics(ctx context.Context) error {
	m1, err := c.t.Metrics(ctx, c.r.A)
	if errors.Is(err, rollout.ErrNoMetrics) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the metrics of %s: %w (wrap rollout.ErrNoMetrics when nothing measures requests)", c.r.A, err)
	}
	m2, err := c.t.Metrics(ctx, c.r.A)
	if err != nil {
		return fmt.Errorf("reading the metrics of %s again: %w", c.r.A, err)
	}
	if m1.Requests < 0 || m1.Errors > m1.Requests || m2.Requests < m1.Requests || m2.Errors < m1.Errors || len(m1.Counts) != len(m1.Bounds) {
		return fmt.Errorf("metrics of %s are not cumulative counters: %+v then %+v", c.r.A, m1, m2)
	}
	return nil
}

func (c *checker) failing(ctx context.Context) error {
	if c.r.Failing == "" {
		return nil
	}
	if err := c.t.Start(ctx, c.r.Failing, 1); err != nil {
		return fmt.Errorf("starting 1 replica of %s: %w", c.r.Failing, err)
	}
	reps, err := c.until(ctx, "the replica of "+c.r.Failing+" to be reported failed", func(reps []rollout.Replica) bool {
		_, _, failed, _ := count(reps, c.r.Failing)
		return failed > 0
	})
	if err != nil {
		return err
	}
	for _, rep := range reps {
		if rep.Release == c.r.Failing && rep.Health == rollout.Failed && rep.Diagnosis == "" {
			return fmt.Errorf("replica %s of %s failed without a diagnosis", rep.ID, c.r.Failing)
		}
	}
	return nil
}
