package schedule

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock moves only when the test says so; Sleep ends when the time reaches its deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Sleep waits until set moves the time to d from now, or ctx ends.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-c.after(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.added <- struct{}{}
	return ch
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestSchedulerFires(t *testing.T) {
	start := time.Date(2026, 11, 25, 2, 58, 10, 0, time.UTC)
	clock := &fakeClock{now: start, added: make(chan struct{}, 10)}
	cron, err := Parse("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	fired := make(chan time.Time, 10)
	s := &Scheduler{Cron: cron, Clock: clock, Job: func(_ context.Context, at time.Time) error {
		fired <- at
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	wait := func(what string) {
		select {
		case <-clock.added:
		case <-ctx.Done():
			t.Fatalf("scheduler never waited %s", what)
		}
	}
	wait("for the first slot")
	clock.set(start.Add(time.Minute)) // 02:59:10: not yet
	select {
	case at := <-fired:
		t.Fatalf("fired early at %s", at)
	default:
	}
	clock.set(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	select {
	case at := <-fired:
		if want := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC); !at.Equal(want) {
			t.Fatalf("fired for %s, want %s", at, want)
		}
	case <-ctx.Done():
		t.Fatal("the job did not fire at 03:00")
	}
	wait("for the next day")
	clock.set(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	select {
	case at := <-fired:
		if at.Day() != 26 {
			t.Fatalf("second run for %s", at)
		}
	case <-ctx.Done():
		t.Fatal("the job did not fire the next day")
	}
	wait("after the second run")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v after cancel", err)
	}
}
