package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx is done (returning its error).
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct {
	// Wake, when set, ends a Sleep early: a target's change events, so the rollout engine
	// reacts to them instead of waiting out its poll.
	Wake <-chan struct{}
}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d, a signal on Wake, or until ctx is done.
func (c Real) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-c.Wake:
	}
	return nil
}

// Or is c, or the wall clock when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}
