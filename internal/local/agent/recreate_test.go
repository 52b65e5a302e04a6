package agent

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
)

// A recreate deploy stops the live release's process before the new one starts: an app that
// holds an exclusive lock on its data (as SQLite or a single-writer store does) takes it in the
// new release, where a rolling deploy's new process finds it held and fails. In between, the
// proxy answers 503 with Retry-After, never a 502. pyship rollback goes the same way.
func TestRecreateFreesTheDataBeforeTheNewRelease(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	lock := filepath.Join(t.TempDir(), "db.lock")
	plan := func(version, strategy string, mode ...string) *release.Manifest {
		p := stdlibPlan(stdlibApp(t, append(mode, "lock")[0]), version, strategy, pub)
		p.Deploy.Replicas, p.Deploy.Canary = 1, nil
		p.Env["LOCK_FILE"] = lock
		return build(t, home, p)
	}
	v1 := plan("v1", "recreate")
	if ev := deploy(t, c, v1); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v1 ended %s: %s", ev.Final.Phase, ev.Final.Message)
	}

	// Rolling: the new process starts beside the old one and cannot take the lock.
	if ev := deploy(t, c, plan("v2", "rolling")); ev.Final.Phase != rollout.RolledBack || !strings.Contains(ev.Final.Message, "exited with status 4") {
		t.Fatalf("rolling over a held lock ended %s (%s), want rolled back with the lock's exit status 4", ev.Final.Phase, ev.Final.Message)
	}

	// Recreate: the old process is gone, its lock freed, before the new one starts.
	w := watchStatuses(url)
	if ev := deploy(t, c, plan("v3", "recreate")); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("recreate ended %s: %s", ev.Final.Phase, ev.Final.Message)
	}
	w.check(t, "deploying v3")
	if _, body := httpGet(t, url); body != "stdlib v3" {
		t.Errorf("after the deploy the app answers %q, want stdlib v3", body)
	}

	// A recreate release that fails: it is stopped, and v3 started again (downtime both ways).
	w = watchStatuses(url)
	if ev := deploy(t, c, plan("v4", "recreate", "crash")); ev.Final.Phase != rollout.RolledBack || !strings.Contains(ev.Final.Message, "exited with status 3") {
		t.Fatalf("a crashing recreate release ended %s (%s), want rolled back with its exit status 3", ev.Final.Phase, ev.Final.Message)
	}
	w.check(t, "rolling v4 back")
	if _, body := httpGet(t, url); body != "stdlib v3" {
		t.Errorf("after the failed deploy the app answers %q, want stdlib v3", body)
	}

	// pyship rollback to v1: v3 stops before v1 starts again.
	w = watchStatuses(url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ev, err := c.Deploy(ctx, DeployRequest{App: v1.App, Release: v1.ID, Rollback: true}, func(e Event) { t.Logf("rollback: %s%s", e.Message, e.Warning) })
	if err != nil || ev.Final == nil || ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("rollback to v1: %+v, %v", ev.Final, err)
	}
	w.check(t, "rolling back to v1")
	if _, body := httpGet(t, url); body != "stdlib v1" {
		t.Errorf("after the rollback the app answers %q, want stdlib v1", body)
	}
}

// statuses polls url until checked, counting its answers by status.
type statuses struct {
	mu      sync.Mutex
	codes   map[int]int
	noRetry int // 503s without Retry-After
	stop    chan struct{}
	done    chan struct{}
}

func watchStatuses(url string) *statuses {
	s := &statuses{codes: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 2 * time.Second}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			resp, err := client.Get(url)
			code := 0
			if err == nil {
				code = resp.StatusCode
				if code == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					s.mu.Lock()
					s.noRetry++
					s.mu.Unlock()
				}
				resp.Body.Close()
			}
			s.mu.Lock()
			s.codes[code]++
			s.mu.Unlock()
		}
	}()
	return s
}

// check stops polling: the app answered 200 or, while no release ran, 503 with Retry-After,
// and there was such a moment (recreate has downtime by design).
func (s *statuses) check(t *testing.T, what string) {
	t.Helper()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("%s: answers by status %v", what, s.codes)
	for code, n := range s.codes {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d answer(s) with status %d (0: no answer), want only 200 and 503", what, n, code)
		}
	}
	if s.codes[http.StatusServiceUnavailable] == 0 {
		t.Errorf("%s: no 503 while no release ran: the old process was not stopped before the new one was ready", what)
	}
	if s.noRetry > 0 {
		t.Errorf("%s: %d 503(s) without Retry-After", what, s.noRetry)
	}
}
