package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// localMonitorAgent runs an agent whose PATH (as Getenv reads it) is path, with the stack a
// [monitor] local deploy starts on ports of the test; replicas keep this process's PATH.
func localMonitorAgent(t *testing.T, path string) (*Client, *Agent, MonitorConfig) {
	t.Helper()
	home := newHome(t)
	cfg := MonitorConfig{PrometheusAddr: fmt.Sprintf("127.0.0.1:%d", port(t)), AlertmanagerAddr: fmt.Sprintf("127.0.0.1:%d", port(t))}
	c, a, shutdown := runAgent(t, home, func(a *Agent) {
		a.PATH = os.Getenv("PATH")
		a.Getenv = func(k string) string {
			if k == "PATH" {
				return path
			}
			return os.Getenv(k)
		}
		a.LocalMonitor = cfg
	})
	t.Cleanup(func() {
		c.MonitorDown(context.Background())
		c.Act(context.Background(), "stdapp", "stop")
		shutdown()
	})
	return c, a, cfg
}

// deployLocalMonitor deploys version of stdapp on pub with [monitor] local = true and window,
// and returns the deploy's warnings.
func deployLocalMonitor(t *testing.T, c *Client, a *Agent, version string, pub int, window string) []string {
	t.Helper()
	p := stdlibPlan(stdlibApp(t, ""), version, "rolling", pub)
	p.Monitor = &plan.Monitor{Window: window, Availability: 99.9, Local: true}
	m := build(t, a.Home, p)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var warnings []string
	if _, err := c.Deploy(ctx, DeployRequest{App: m.App, Release: m.ID}, func(e Event) {
		if e.Warning != "" {
			warnings = append(warnings, e.Warning)
		}
	}); err != nil {
		t.Fatalf("deploying %s: %v", m.ID, err)
	}
	return warnings
}

// A deploy whose plan sets [monitor] local starts the real Prometheus and Alertmanager found
// on the agent's PATH, with a retention covering the app's window; no monitor up runs.
func TestLocalMonitorStartsWithTheDeploy(t *testing.T) {
	t.Parallel()
	svc := testsvc.Start(t, "prometheus")
	bin := t.TempDir()
	for name, target := range map[string]string{"prometheus": svc["PYSHIP_TEST_PROMETHEUS_BIN"], "alertmanager": svc["PYSHIP_TEST_ALERTMANAGER_BIN"]} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	c, a, cfg := localMonitorAgent(t, bin)
	pub := port(t)
	if w := deployLocalMonitor(t, c, a, "v1", pub, "28d"); len(w) != 0 {
		t.Errorf("the deploy warned: %q", w)
	}
	waitScrapesAgent(t, cfg.PrometheusAddr, a)
	wantRetention(t, cfg.PrometheusAddr, 28*24*time.Hour)
	// A release with a longer window restarts Prometheus with a retention covering it.
	if w := deployLocalMonitor(t, c, a, "v2", pub, "90d"); len(w) != 0 {
		t.Errorf("the second deploy warned: %q", w)
	}
	waitScrapesAgent(t, cfg.PrometheusAddr, a)
	wantRetention(t, cfg.PrometheusAddr, 90*24*time.Hour)
}

// wantRetention checks the --storage.tsdb.retention.time the Prometheus on prom runs with.
func wantRetention(t *testing.T, prom string, want time.Duration) {
	t.Helper()
	var flags struct {
		Data map[string]string `json:"data"`
	}
	if err := getJSON("http://"+prom+"/api/v1/status/flags", &flags); err != nil {
		t.Fatal(err)
	}
	got, err := model.ParseDuration(flags.Data["storage.tsdb.retention.time"])
	if err != nil || time.Duration(got) != want {
		t.Errorf("Prometheus runs with --storage.tsdb.retention.time=%q (%v); want %v, the app's window", flags.Data["storage.tsdb.retention.time"], err, model.Duration(want))
	}
}

// Without the binaries on the agent's PATH the deploy succeeds and says once how to install them.
func TestLocalMonitorWithoutBinariesWarnsOnce(t *testing.T) {
	t.Parallel()
	c, a, _ := localMonitorAgent(t, t.TempDir())
	w := deployLocalMonitor(t, c, a, "v1", port(t), "28d")
	if len(w) != 1 || !strings.Contains(w[0], "apt-get install prometheus prometheus-alertmanager") {
		t.Errorf("warnings = %q; want one saying how to install Prometheus and Alertmanager", w)
	}
	if _, running := a.monitor.running(); running {
		t.Errorf("a stack runs without its binaries")
	}
}

func TestRetentionCoversTheLongestWindow(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	for _, tc := range []struct {
		windows []string
		want    time.Duration
	}{{nil, 15 * day}, {[]string{"7d"}, 15 * day}, {[]string{"28d", "90d", "4w"}, 90 * day}, {[]string{"5w"}, 35 * day}} {
		plans := map[string]*plan.Plan{"plain": {}}
		for i, w := range tc.windows {
			plans[fmt.Sprint(i)] = &plan.Plan{Monitor: &plan.Monitor{Window: w}}
		}
		if got := retentionFor(plans); got != tc.want {
			t.Errorf("retentionFor(%v) = %v; want %v", tc.windows, got, tc.want)
		}
	}
}
