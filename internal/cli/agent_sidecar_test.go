package cli

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
)

// The sidecar is a server Kubernetes stops with SIGTERM: after a clean drain it exits 0, not
// the 130 of an interrupted command.
func TestSidecarExitsZeroWhenStopped(t *testing.T) {
	t.Parallel()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	metrics := fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t))
	sig := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- MainSignals(sig, []string{"agent", "sidecar", "--listen", "127.0.0.1:0", "--metrics-listen", metrics,
			"--backend", "127.0.0.1:1", "--app", "shop", "--release", "r1", "--drain-timeout", "1s"}, nil, null, null, null)
	}()
	testsvc.Eventually(t, 30*time.Second, "the sidecar to serve /metrics", func() error {
		select {
		case code := <-done:
			t.Fatalf("the sidecar ended before it was stopped: exit %d", code)
		default:
		}
		resp, err := http.Get("http://" + metrics + "/metrics")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("the sidecar stopped by a signal exited %d, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sidecar did not stop within 30 s of the signal")
	}
}
