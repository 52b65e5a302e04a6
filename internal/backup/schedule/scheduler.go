package schedule

import (
	"context"
	"time"
)

// Clock is the time source of a Scheduler; tests pass one they control.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scheduler runs a job at each time a cron expression names, one run at a time; a run that
// outlasts the next slot makes that slot be skipped, not queued.
type Scheduler struct {
	Cron  *Cron
	Clock Clock
	// Job is called with the scheduled time; its error goes to OnError (e.g. to notify).
	Job     func(ctx context.Context, at time.Time) error
	OnError func(at time.Time, err error)
}

// Run waits for each scheduled time and runs the job until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		now := s.Clock.Now()
		next := s.Cron.Next(now)
		if next.IsZero() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.Clock.After(next.Sub(now)):
		}
		if s.Clock.Now().Before(next) {
			continue // woke early (clock adjusted): wait again
		}
		if err := s.Job(ctx, next); err != nil && s.OnError != nil {
			s.OnError(next, err)
		}
	}
}
