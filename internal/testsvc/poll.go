package testsvc

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually tries again.
const pollEvery = 20 * time.Millisecond

// Eventually calls cond until it returns nil or timeout passes, then fails the test with
// what was being waited for and cond's last error. It is the one way tests wait for a state:
// no fixed sleeps.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := Poll(timeout, cond); err != nil {
		t.Fatalf("waiting %s for %s: %v", timeout, what, err)
	}
}

// Poll calls cond until it returns nil or timeout passes, and returns cond's last error then
// (nil on success); for waits whose failure is not the test's end.
func Poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollEvery)
	}
}
