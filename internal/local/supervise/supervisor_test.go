package supervise

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

func appSpec(t *testing.T, id, mode string) Spec {
	t.Helper()
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	app, err := filepath.Abs("../testdata/stdlib/app.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return Spec{
		ID: id, Release: "r1", Dir: dir,
		Command: []string{py, app},
		Env:     []string{"PATH=" + os.Getenv("PATH"), "APP_MODE=" + mode, "PYSHIP_VERSION=v1"},
		Port:    testsvc.Port(t), LogFile: filepath.Join(dir, id+".log"),
		Probe: Probe{Type: "http", Path: "/healthz", Interval: 200 * time.Millisecond, Timeout: time.Second, StartupTimeout: 4 * time.Second},
		Grace: 2 * time.Second,
	}
}

type events struct {
	mu    sync.Mutex
	ready []string
}

func newSup(t *testing.T) (*Supervisor, *events) {
	ev := &events{}
	s := &Supervisor{Home: t.TempDir(), OnReady: func(i Info) {
		ev.mu.Lock()
		ev.ready = append(ev.ready, i.ID)
		ev.mu.Unlock()
	}}
	return s, ev
}

func waitHealth(t *testing.T, s *Supervisor, id string, want rollout.Health, cond func(Info) bool) Info {
	t.Helper()
	var got Info
	testsvc.Eventually(t, 20*time.Second, fmt.Sprintf("replica %s to become %s", id, want), func() error {
		for _, i := range s.List() {
			if i.ID == id && i.Health == want && (cond == nil || cond(i)) {
				got = i
				return nil
			}
		}
		return fmt.Errorf("replicas %+v", s.List())
	})
	return got
}

func TestReadyThenStopLeavesNoProcess(t *testing.T) {
	s, ev := newSup(t)
	ctx := context.Background()
	sp := appSpec(t, "a", "spawn")
	if err := s.Start(ctx, sp, 0, 0); err != nil {
		t.Fatal(err)
	}
	info := waitHealth(t, s, "a", rollout.Ready, nil)
	ev.mu.Lock()
	if len(ev.ready) != 1 {
		t.Errorf("OnReady calls = %v, want one", ev.ready)
	}
	ev.mu.Unlock()
	if marked := Marked(s.Home); marked[info.PID] != "a" {
		t.Errorf("Marked() = %v, want pid %d marked as a", marked, info.PID)
	}
	if err := s.Stop(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if groupAlive(info.PID) {
		t.Error("a process of the replica's group outlived Stop")
	}
	if len(s.List()) != 0 {
		t.Errorf("List() after Stop = %v", s.List())
	}
}

func TestFailureDiagnosis(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{"crash", []string{"exited before becoming ready", "exited with status 3", "boom: DATABASE_URL is not set"}},
		{"wrongport", []string{"not ready within the startup timeout", "listens on port", "make it bind $PORT"}},
		{"unhealthy", []string{"not ready within the startup timeout", "500 Internal Server Error", `"sick"`}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			s, _ := newSup(t)
			sp := appSpec(t, "x", tt.mode)
			// The lines of an earlier process of the same replica ID (an earlier failed
			// deploy of the release) are not this one's diagnosis.
			if err := os.WriteFile(sp.LogFile, []byte("an earlier process said this\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background(), sp, 0, 0); err != nil {
				t.Fatal(err)
			}
			info := waitHealth(t, s, "x", rollout.Failed, nil)
			for _, w := range tt.want {
				if !strings.Contains(info.Diagnosis, w) {
					t.Errorf("diagnosis lacks %q:\n%s", w, info.Diagnosis)
				}
			}
			if strings.Contains(info.Diagnosis, "an earlier process") {
				t.Errorf("diagnosis shows an earlier process's log lines:\n%s", info.Diagnosis)
			}
			if Alive(info.PID, info.Start) {
				t.Error("a failed replica's process is still running")
			}
			s.Stop(context.Background(), "x")
		})
	}
}

func TestLivenessRestartsAndAdoption(t *testing.T) {
	s, _ := newSup(t)
	ctx := context.Background()
	sp := appSpec(t, "a", "ok")
	if err := s.Start(ctx, sp, 0, 0); err != nil {
		t.Fatal(err)
	}
	first := waitHealth(t, s, "a", rollout.Ready, nil)
	KillGroup(first.PID)
	second := waitHealth(t, s, "a", rollout.Ready, func(i Info) bool { return i.Restarts == 1 })
	if second.PID == first.PID {
		t.Fatal("the killed process was not replaced")
	}
	// A new supervisor (a restarted agent) takes the running process back.
	s.Release()
	s2, _ := newSup(t)
	s2.Home = s.Home
	if err := s2.Start(ctx, sp, second.PID, second.Start); err != nil {
		t.Fatal(err)
	}
	adopted := waitHealth(t, s2, "a", rollout.Ready, nil)
	if adopted.PID != second.PID {
		t.Errorf("adopted pid %d, want the running %d", adopted.PID, second.PID)
	}
	s2.Stop(ctx, "a")
	if Alive(second.PID, second.Start) {
		t.Error("the adopted process survived Stop")
	}
}

func TestProcessProbeWorker(t *testing.T) {
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	for _, tt := range []struct {
		name, code string
		want       rollout.Health
	}{
		{"stays up", "import time; time.sleep(600)", rollout.Ready},
		// Exits at once: with a sleep first, a loaded machine could keep it up past the 2 s after
		// which a process without a port counts as ready, and the test would wait for a restart.
		{"crashes at start", "import sys; sys.exit(4)", rollout.Failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSup(t)
			dir := t.TempDir()
			sp := Spec{ID: "w", Release: "r1", Dir: dir, Command: []string{py, "-c", tt.code}, Env: []string{"PATH=" + os.Getenv("PATH")},
				LogFile: filepath.Join(dir, "w.log"), Probe: Probe{Type: "process", Interval: 200 * time.Millisecond, StartupTimeout: 5 * time.Second}}
			if err := s.Start(context.Background(), sp, 0, 0); err != nil {
				t.Fatal(err)
			}
			info := waitHealth(t, s, "w", tt.want, nil)
			if tt.want == rollout.Failed && !strings.Contains(info.Diagnosis, "exited with status 4") {
				t.Errorf("diagnosis: %s", info.Diagnosis)
			}
			s.Stop(context.Background(), "w")
		})
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{}.withDefaults()
	if b != (Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second, Reset: time.Minute}) {
		t.Errorf("defaults = %+v", b)
	}
	b = Backoff{Min: time.Second, Max: 8 * time.Second, Reset: 20 * time.Second}
	for _, tc := range []struct {
		name    string
		cur, up time.Duration
		next    time.Duration
		settle  time.Duration
	}{
		{"doubles", time.Second, 0, 2 * time.Second, time.Second},
		{"capped at max", 8 * time.Second, 0, 8 * time.Second, 8 * time.Second},
		{"half way to the cap", 5 * time.Second, 0, 8 * time.Second, 5 * time.Second},
		{"up a while, not long enough", 8 * time.Second, 19 * time.Second, 8 * time.Second, 8 * time.Second},
		{"up for the reset period", 8 * time.Second, 20 * time.Second, 8 * time.Second, time.Second},
		{"up long after", 4 * time.Second, time.Hour, 8 * time.Second, time.Second},
	} {
		if got := b.Next(tc.cur); got != tc.next {
			t.Errorf("%s: Next(%s) = %s, want %s", tc.name, tc.cur, got, tc.next)
		}
		if got := b.Settle(tc.cur, tc.up); got != tc.settle {
			t.Errorf("%s: Settle(%s, up %s) = %s, want %s", tc.name, tc.cur, tc.up, got, tc.settle)
		}
	}
}

// Restarts in a row back off; a replica healthy for the reset period starts over from Min.
func TestLivenessBackoffResets(t *testing.T) {
	s, _ := newSup(t)
	s.Backoff = Backoff{Min: 100 * time.Millisecond, Max: 400 * time.Millisecond, Reset: 1500 * time.Millisecond}
	ctx := context.Background()
	sp := appSpec(t, "a", "ok")
	sp.Probe.Interval = 100 * time.Millisecond
	if err := s.Start(ctx, sp, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx, "a")
	i := waitHealth(t, s, "a", rollout.Ready, nil)
	if i.Backoff != 100*time.Millisecond {
		t.Fatalf("first backoff = %s, want 100ms", i.Backoff)
	}
	for n, want := range []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond} {
		KillGroup(i.PID)
		i = waitHealth(t, s, "a", rollout.Ready, func(i Info) bool { return i.Restarts == n+1 })
		if i.Backoff != want {
			t.Fatalf("backoff after %d restart(s) in a row = %s, want %s", n+1, i.Backoff, want)
		}
	}
	readyAt := time.Now()
	i = waitHealth(t, s, "a", rollout.Ready, func(i Info) bool { return i.Backoff == 100*time.Millisecond })
	if up := time.Since(readyAt); up > 5*time.Second {
		t.Errorf("the backoff went back to 100ms only after %s up; want about the reset period of 1.5s", up)
	}
	if i.Restarts != 3 {
		t.Errorf("restarts = %d, want 3", i.Restarts)
	}
	// The next death restarts after Min again.
	KillGroup(i.PID)
	i = waitHealth(t, s, "a", rollout.Ready, func(i Info) bool { return i.Restarts == 4 })
	if i.Backoff != 200*time.Millisecond {
		t.Errorf("backoff after a restart following the reset = %s, want 200ms", i.Backoff)
	}
}

// TestTakenPortIsChosenAgain: a replica whose port another program took between its choice
// and the app's bind (here: a listener the test holds) is launched again on another port,
// at most maxRepicks times; an exit that is not about the port is not retried.
func TestTakenPortIsChosenAgain(t *testing.T) {
	t.Parallel()
	hold := func(t *testing.T) int {
		t.Helper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln.Addr().(*net.TCPAddr).Port
	}
	t.Run("moves to a free port", func(t *testing.T) {
		t.Parallel()
		s, _ := newSup(t)
		var picked []int
		s.PickPort = func() (int, error) {
			p := testsvc.Port(t)
			picked = append(picked, p)
			return p, nil
		}
		sp := appSpec(t, "p", "ok")
		taken := hold(t)
		sp.Port = taken
		if err := s.Start(context.Background(), sp, 0, 0); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background(), "p")
		info := waitHealth(t, s, "p", rollout.Ready, nil)
		if len(picked) != 1 || info.Port != picked[0] || info.Restarts != 0 {
			t.Fatalf("ready on port %d after %d restarts, picked %v; want the one port picked after %d was taken", info.Port, info.Restarts, picked, taken)
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", info.Port))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "stdlib v1\n" {
			t.Errorf("the replica on its new port answers %q", body)
		}
	})
	t.Run("gives up after maxRepicks", func(t *testing.T) {
		t.Parallel()
		s, _ := newSup(t)
		other := hold(t)
		picks := 0
		s.PickPort = func() (int, error) { picks++; return other, nil } // always taken too
		sp := appSpec(t, "q", "ok")
		sp.Port = hold(t)
		if err := s.Start(context.Background(), sp, 0, 0); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background(), "q")
		info := waitHealth(t, s, "q", rollout.Failed, nil)
		if picks != maxRepicks || !strings.Contains(info.Diagnosis, "Address already in use") {
			t.Errorf("failed after %d picks (want %d) with diagnosis:\n%s", picks, maxRepicks, info.Diagnosis)
		}
	})
	t.Run("a crash is not retried", func(t *testing.T) {
		t.Parallel()
		s, _ := newSup(t)
		picks := 0
		s.PickPort = func() (int, error) { picks++; return 0, fmt.Errorf("not to be called") }
		if err := s.Start(context.Background(), appSpec(t, "c", "crash"), 0, 0); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background(), "c")
		if info := waitHealth(t, s, "c", rollout.Failed, nil); picks != 0 || !strings.Contains(info.Diagnosis, "exited with status 3") {
			t.Errorf("a crash picked %d ports; diagnosis:\n%s", picks, info.Diagnosis)
		}
	})
}
