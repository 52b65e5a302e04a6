package schedule

import (
	"context"
	"time"

	"github.com/pyship/pyship/internal/clock"
)

// Scheduler runs a job at each time a cron expression names, one run at a time; a run that
// outlasts the next slot makes that slot be skipped, not queued.
type Scheduler struct {
	Cron *Cron
	// Clock tells the time and waits for each slot; tests pass one they move.
	Clock clock.Clock
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
		if err := s.Clock.Sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
		if s.Clock.Now().Before(next) {
			continue // woke early (clock adjusted): wait again
		}
		if err := s.Job(ctx, next); err != nil && s.OnError != nil {
			s.OnError(next, err)
		}
	}
}
