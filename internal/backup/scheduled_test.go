package backup

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/backup/schedule"
)

// stepClock is a clock the test moves; Sleep ends when the time reaches its deadline.
type stepClock struct {
	mu      sync.Mutex
	now     time.Time
	waiting []chan time.Time
	at      []time.Time
	added   chan struct{}
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Sleep waits until set moves the time to d from now, or ctx ends.
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-c.after(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *stepClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiting, c.at = append(c.waiting, ch), append(c.at, c.now.Add(d))
	c.added <- struct{}{}
	return ch
}

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	var waiting []chan time.Time
	var at []time.Time
	for i, ch := range c.waiting {
		if !c.at[i].After(t) {
			ch <- t
		} else {
			waiting, at = append(waiting, ch), append(at, c.at[i])
		}
	}
	c.waiting, c.at = waiting, at
}

func TestScheduleFiresBackupAndPrune(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, 2*time.Minute)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "a"), []byte("a"), 0o644)
	cfg, ids := testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.Retention = Retention{Last: 2}
	cfg.Schedule = "@hourly"
	clock := &stepClock{now: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), added: make(chan struct{}, 16)}
	c := newClient(t, cfg, WithClock(clock))
	cron, err := schedule.Parse(cfg.Schedule)
	must(t, err)
	errs := make(chan error, 16)
	sch := &schedule.Scheduler{Cron: cron, Clock: clock, Job: c.Scheduled, OnError: func(_ time.Time, err error) { errs <- err }}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sch.Run(rctx) }()

	for h := 10; h <= 12; h++ {
		select {
		case <-clock.added: // the scheduler waits for the next slot
		case <-ctx.Done():
			t.Fatal("the scheduler never waited")
		}
		clock.set(time.Date(2026, 11, 25, h, 0, 0, 0, time.UTC))
	}
	select {
	case <-clock.added: // the third run finished
	case <-ctx.Done():
		t.Fatal("the third run never finished")
	}
	stop()
	<-done
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	l, err := c.List(ctx)
	must(t, err)
	if len(l.Backups) != 2 || l.Backups[0].Created.Hour() != 12 || l.Backups[1].Created.Hour() != 11 {
		t.Fatalf("after 3 hourly runs with keep 2: %v", ids0(l))
	}
	_, err = c.Verify(ctx, "latest", ids)
	must(t, err)
}
