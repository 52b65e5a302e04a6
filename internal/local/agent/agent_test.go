package agent

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

func TestStrategiesDropNothing(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{"rolling", "blue-green", "canary"} {
		t.Run(strategy, func(t *testing.T) {
			home := newHome(t)
			c := startAgent(t, home)
			pub := port(t)
			url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
			m1 := build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", strategy, pub))
			if ev := deploy(t, c, m1); ev.Final.Phase != rollout.Succeeded || ev.URL != url {
				t.Fatalf("first deploy: %+v", ev)
			}
			if _, body := httpGet(t, url); body != "stdlib v1" {
				t.Fatalf("v1 answers %q", body)
			}
			if _, body := httpGet(t, url+"config"); body != "from-config" {
				t.Errorf("the app reads %q from config/, want from-config", body)
			}
			l := startLoad(url, 4)
			l.waitFor(t, 50)
			m2 := build(t, home, stdlibPlan(stdlibApp(t, ""), "v2", strategy, pub))
			ev := deploy(t, c, m2)
			l.waitFor(t, 50)
			l.stop()
			if ev.Final.Phase != rollout.Succeeded {
				t.Fatalf("v2 deploy: %s: %s", ev.Final.Phase, ev.Final.Message)
			}
			if l.failed.Load() != 0 {
				t.Errorf("%d of %d requests failed during the deploy: %v", l.failed.Load(), l.ok.Load()+l.failed.Load(), l.errs)
			}
			if l.last != "stdlib v2" || l.bodies["stdlib v2"] == 0 {
				t.Errorf("responses did not move to v2: last %q, counts %v", l.last, l.bodies)
			}
			st, err := c.Status(t.Context(), "stdapp")
			if err != nil || len(st) != 1 || st[0].Stable != m2.ID {
				t.Fatalf("status = %+v, %v", st, err)
			}
			if r := st[0].Releases[0]; r.ID != m2.ID || r.Weight != 100 || r.Requests == 0 || len(r.Replicas) != 2 {
				t.Errorf("status of %s = %+v", m2.ID, r)
			}
			_, metrics := httpGet(t, st[0].Metrics)
			for _, want := range []string{
				fmt.Sprintf(`pyship_requests_total{app="stdapp",release=%q,code="200"}`, m2.ID),
				fmt.Sprintf(`pyship_replica_ready{app="stdapp",release=%q,replica=`, m2.ID),
				`pyship_request_duration_seconds_bucket{app="stdapp",release="r1",le="0.005"}`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		})
	}
}

func TestBrokenReleaseRollsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode, strategy string
		maxFailed      int64
		diag           string
	}{
		{"crash", "rolling", 0, "exited with status 3"},
		{"unhealthy", "blue-green", 0, "500 Internal Server Error"},
		{"error500", "canary", -1, "canary analysis failed"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			home := newHome(t)
			c := startAgent(t, home)
			pub := port(t)
			url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
			deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v2", tt.strategy, pub)))
			l := startLoad(url, 4)
			l.waitFor(t, 50)
			ev := deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, tt.mode), "v3", tt.strategy, pub)))
			l.waitFor(t, 50)
			l.stop()
			if ev.Final.Phase != rollout.RolledBack {
				t.Fatalf("broken v3 ended %s, want rolled-back", ev.Final.Phase)
			}
			if !strings.Contains(ev.Final.Message, tt.diag) {
				t.Errorf("rollback reason lacks %q:\n%s", tt.diag, ev.Final.Message)
			}
			limit := tt.maxFailed
			if limit < 0 {
				limit = canaryBound(t, l, ev.Final)
			}
			t.Logf("%d of %d requests failed (limit %d)", l.failed.Load(), l.ok.Load()+l.failed.Load(), limit)
			if l.failed.Load() > limit {
				t.Errorf("%d requests failed (limit %d): %v", l.failed.Load(), limit, l.errs)
			}
			if _, body := httpGet(t, url); body != "stdlib v2" {
				t.Errorf("after the rollback the app answers %q, want stdlib v2", body)
			}
		})
	}
}

// TestProxyFollowsTheDeployedPlan: [deploy] sticky and request_timeout of the release being
// deployed configure the app's proxy.
func TestProxyFollowsTheDeployedPlan(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	p1 := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub)
	p1.Deploy.Replicas = 1
	deploy(t, c, build(t, home, p1))
	resp := mustGet(t, url)
	if len(resp.Cookies()) != 0 {
		t.Errorf("without [deploy] sticky the proxy set cookies %v", resp.Cookies())
	}
	if resp := mustGet(t, url+"sleep"); resp.StatusCode != 200 {
		t.Errorf("a 1 s request under the default 60 s timeout answered %d", resp.StatusCode)
	}

	p2 := stdlibPlan(stdlibApp(t, ""), "v2", "rolling", pub)
	p2.Deploy.Replicas = 1
	p2.Deploy.Sticky = true
	p2.Deploy.RequestTimeout = "300ms"
	m2 := build(t, home, p2)
	deploy(t, c, m2)
	resp = mustGet(t, url)
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].Name != StickyCookie || ck[0].Value != m2.ID {
		t.Errorf("with [deploy] sticky the proxy set cookies %v, want %s=%s", ck, StickyCookie, m2.ID)
	}
	if resp := mustGet(t, url+"sleep"); resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("a 1 s request with request_timeout 300ms answered %d, want 504", resp.StatusCode)
	}
}

func mustGet(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// [deploy] keep_releases bounds the releases kept; a failed deploy does not count against it.
func TestKeepReleases(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	plan := func(version, mode string) *release.Manifest {
		p := stdlibPlan(stdlibApp(t, mode), version, "rolling", pub)
		p.Deploy.Replicas, p.Deploy.KeepReleases = 1, 2
		return build(t, home, p)
	}
	for _, v := range []string{"v1", "v2"} {
		if ev := deploy(t, c, plan(v, "")); ev.Final.Phase != rollout.Succeeded {
			t.Fatalf("deploy %s: %+v", v, ev.Final)
		}
	}
	if ev := deploy(t, c, plan("v3", "crash")); ev.Final.Phase == rollout.Succeeded {
		t.Fatalf("the crashing v3 succeeded")
	}
	if got := release.List(release.Paths{Home: home}, "stdapp"); !reflect.DeepEqual(got, []string{"r1", "r2", "r3"}) {
		t.Errorf("releases after a failed deploy = %v, want r1 r2 r3: the failed r3 must not push r1 out", got)
	}
	// logs defaults to the stable release, not the failed one deployed last.
	var logs strings.Builder
	if err := c.Logs(t.Context(), "stdapp", "", false, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "stdlib v2 listening on") || strings.Contains(logs.String(), "boom") {
		t.Errorf("pyship logs after a failed deploy shows:\n%s\nwant the stable r2's lines", logs.String())
	}
	logs.Reset()
	if err := c.Logs(t.Context(), "stdapp", "r3", false, &logs); err != nil || !strings.Contains(logs.String(), "boom: DATABASE_URL is not set") {
		t.Errorf("logs --release r3: %v\n%s", err, logs.String())
	}
	if ev := deploy(t, c, plan("v4", "")); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy v4: %+v", ev.Final)
	}
	if got := release.List(release.Paths{Home: home}, "stdapp"); !reflect.DeepEqual(got, []string{"r2", "r3", "r4"}) {
		t.Errorf("releases after v4 with keep_releases = 2: %v, want r2 r3 (failed, among the 2 newest) r4", got)
	}
}

// The proxy process is supervised: killed, it is started again with the agent's routing table.
func TestProxyProcessRestarted(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	m := build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub))
	if ev := deploy(t, c, m); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy: %+v", ev.Final)
	}
	pidFile := proxyPIDFile(release.Paths{Home: home}, "stdapp")
	readPID := func() int {
		b, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return pid
	}
	first := readPID()
	if first == 0 {
		t.Fatalf("no proxy process recorded in %s", pidFile)
	}
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 20*time.Second, "the killed proxy process to be replaced", func() error {
		pid := readPID()
		if pid == first || pid == 0 {
			return fmt.Errorf("the pid file says %d", pid)
		}
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(b)); got != "stdlib v1" {
			return fmt.Errorf("the new proxy answers %q", got)
		}
		return nil
	})
	if st, err := c.Status(t.Context(), "stdapp"); err != nil || st[0].URL != url || st[0].Releases[0].Weight != 100 {
		t.Errorf("status after the proxy's restart: %+v %v", st, err)
	}
}

// canaryBound is the most requests a failing canary may cost: its weight of the requests sent
// during its analysis window (the step's start to the analysis), plus a margin of 4 standard
// deviations of the weighted random routing (binomial) and one request per load client in
// flight at each end. The window is widened by the engine's poll (100ms) on each side: the
// weight is set just before the step is marked, and set back just after the analysis.
func canaryBound(t *testing.T, l *load, final *rollout.Status) int64 {
	t.Helper()
	if final.StepStarted.IsZero() || final.AnalyzeAt.IsZero() || len(final.Spec.Canary.Steps) == 0 {
		t.Fatalf("the final status lacks the canary's analysis window: %+v", final)
	}
	const poll, clients = 100 * time.Millisecond, 4
	w := float64(final.Spec.Canary.Steps[final.Step]) / 100
	n := float64(l.sentBetween(final.StepStarted.Add(-poll), final.AnalyzeAt.Add(poll)))
	bound := int64(w*n + 4*math.Sqrt(n*w*(1-w)) + 2*clients)
	t.Logf("analysis window %s with %.0f requests at weight %.0f%%: bound %d", final.AnalyzeAt.Sub(final.StepStarted), n, 100*w, bound)
	return bound
}

// A proxy process left running for an app that is not served (the agent died while stopping
// it) is ended by the next agent.
func TestStrayProxyProcessEnded(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	pub := port(t)
	c, _, shutdown := runAgent(t, home)
	p := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub)
	p.Deploy.Replicas = 1
	if ev := deploy(t, c, build(t, home, p)); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy: %+v", ev.Final)
	}
	shutdown() // the proxy process and the replica keep running
	paths := release.Paths{Home: home}
	st, err := loadState(paths, "stdapp")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Replicas {
		for pid, id := range supervise.Marked(home) {
			if id == r.ID {
				supervise.KillGroup(pid)
			}
		}
	}
	st.Stopped, st.Replicas = true, nil
	if err := saveState(paths, st); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(proxyPIDFile(paths, "stdapp"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !isProxy(pid, proxySocket(paths, "stdapp")) {
		t.Fatalf("no proxy process %d runs after the agent's shutdown", pid)
	}
	startAgent(t, home)
	testsvc.Eventually(t, 15*time.Second, "the stray proxy process to end", func() error {
		if isProxy(pid, proxySocket(paths, "stdapp")) {
			return fmt.Errorf("proxy process %d still runs", pid)
		}
		return nil
	})
	if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", pub)); err == nil {
		t.Error("the stopped app's port still answers")
	}
}
