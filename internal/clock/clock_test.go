package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRealSleepEndsOnWakeAndOnCancel(t *testing.T) {
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	start := time.Now()
	if err := (Real{Wake: wake}).Sleep(context.Background(), time.Hour); err != nil || time.Since(start) > time.Minute {
		t.Fatalf("a wake signal must end the sleep at once: %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context must end the sleep with its error, got %v", err)
	}
	if err := (Real{}).Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, ok := Or(nil).(Real); !ok {
		t.Fatal("Or(nil) must be the wall clock")
	}
}
