package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// multiprocSpec serves testdata/prommultiproc (a prometheus_client app; decorator.py there
// stands in for a dependency the wheelhouse's prometheus_client lacks) with 2 gunicorn workers.
const multiprocSpec = "name = \"mpapp\"\n[run]\ncommand = \"gunicorn --bind 0.0.0.0:${PORT} --workers 2 app:app\"\n"

// TestGunicornPrometheusMultiproc serves a prometheus_client app under gunicorn with two
// workers: the requests both workers counted appear summed on the app's /metrics, and the
// counts start again from zero when the replica's gunicorn is restarted.
func TestGunicornPrometheusMultiproc(t *testing.T) {
	t.Parallel()
	env := pipEnv(t)
	dir := testsvc.CopyTree(t, "../testdata/prommultiproc")
	if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte(multiprocSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Resolve(context.Background(), dir, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Run.PrometheusMultiproc {
		t.Fatalf("the plan does not set up multi-process mode: warnings %q", p.Warnings)
	}
	pub := port(t)
	p.Run.Port, p.Deploy.Replicas = pub, 1
	p.Health.Interval, p.Health.StartupTimeout = "300ms", "30s"
	home := newHome(t)
	c := startAgent(t, home)
	m := build(t, home, p, env...)
	if ev := deploy(t, c, m); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy: %+v", ev.Final)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)

	// Concurrent clients without keep-alive, so both workers answer.
	const n = 200
	var mu sync.Mutex
	pids := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for range n / 4 {
				resp, err := hc.Get(url)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				pids[string(b)]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(pids) < 2 {
		t.Fatalf("one worker answered every request (%v): the test cannot tell a sum from one worker's count", pids)
	}
	if got := hits(t, url); got != n {
		t.Errorf("demo_hits_total = %v on /metrics, want %d, the sum of the workers' counts %v", got, n, pids)
	}

	// gunicorn dies; the restarted one starts counting from zero, not from the dead one's files.
	st, err := c.Status(t.Context(), "mpapp")
	if err != nil {
		t.Fatal(err)
	}
	rep := st[0].Releases[0].Replicas[0]
	if err := syscall.Kill(rep.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 60*time.Second, "the replica to be restarted", func() error {
		st, err := c.Status(t.Context(), "mpapp")
		if err != nil {
			return err
		}
		r := st[0].Releases[0].Replicas[0]
		if r.PID == rep.PID || r.Health != rollout.Ready {
			return fmt.Errorf("replica %+v", r)
		}
		return nil
	})
	if _, body := httpGet(t, url); body == "" {
		t.Fatal("no answer after the restart")
	}
	if got := hits(t, url); got != 1 {
		t.Errorf("after a restart demo_hits_total = %v, want 1: the multi-process folder was not emptied", got)
	}

	// A new release retires the replica, and its runtime folder goes with it.
	run := filepath.Join(home, "apps", "mpapp", "run", rep.ID)
	if _, err := os.Stat(filepath.Join(run, "prometheus")); err != nil {
		t.Fatalf("the replica's prometheus_client folder: %v", err)
	}
	if ev := deploy(t, c, build(t, home, p, env...)); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("second deploy: %+v", ev.Final)
	}
	testsvc.Eventually(t, 30*time.Second, "the retired replica's runtime folder to be removed", func() error {
		if _, err := os.Stat(run); !os.IsNotExist(err) {
			return fmt.Errorf("%s: %v", run, err)
		}
		return nil
	})
	if got := hits(t, url); got != 0 {
		t.Errorf("the new release's demo_hits_total = %v, want 0", got)
	}
}

// hits reads demo_hits_total from the app's /metrics.
func hits(t *testing.T, url string) float64 {
	t.Helper()
	fams := scrape(t, url+"metrics")
	f := fams["demo_hits_total"]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("the app's /metrics has no single demo_hits_total: %v", f)
	}
	return f.GetMetric()[0].GetCounter().GetValue()
}
