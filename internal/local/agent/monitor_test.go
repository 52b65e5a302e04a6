package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
	"sigs.k8s.io/yaml"
)

// monitorUp runs the real Prometheus and Alertmanager under the agent a on ports of the test.
func monitorUp(t *testing.T, c *Client) MonitorConfig {
	t.Helper()
	svc := testsvc.Start(t, "prometheus")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cfg, err := c.MonitorUp(ctx, MonitorConfig{
		PrometheusAddr:   fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t)),
		AlertmanagerAddr: fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t)),
		Prometheus:       svc["PYSHIP_TEST_PROMETHEUS_BIN"],
		Alertmanager:     svc["PYSHIP_TEST_ALERTMANAGER_BIN"],
	})
	if err != nil {
		t.Fatalf("monitor up: %v", err)
	}
	t.Cleanup(func() { c.MonitorDown(context.Background()) })
	if !strings.HasSuffix(cfg.StatusPage, "/status") {
		t.Errorf("monitor up names the status page %q", cfg.StatusPage)
	}
	return cfg.MonitorConfig
}

// postAlert posts a firing alert to the Alertmanager API, as Prometheus would.
func postAlert(t *testing.T, am, name string) {
	t.Helper()
	body, _ := json.Marshal([]map[string]any{{
		"labels":      map[string]string{"alertname": name, "severity": "page", "app": "stdapp"},
		"annotations": map[string]string{"summary": "stdapp burns its error budget (test alert)"},
	}})
	resp, err := http.Post("http://"+am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("posting an alert to Alertmanager: %s", resp.Status)
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func TestMonitorUpScrapesTheAgentAndShowsAlerts(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c, a, shutdown := runAgent(t, home)
	t.Cleanup(shutdown)
	cfg := monitorUp(t, c)

	// The real Prometheus scrapes the agent's /metrics.
	waitScrapesAgent(t, cfg.PrometheusAddr, a)

	// A firing alert in Alertmanager shows on the status page.
	postAlert(t, cfg.AlertmanagerAddr, "PyshipTestAlert")
	testsvc.Eventually(t, 30*time.Second, "the status page to list the firing alert", func() error {
		var page statusPage
		if err := getJSON("http://"+a.adminAddr+"/status/data.json", &page); err != nil {
			return err
		}
		if !page.Alerts.Configured || page.Alerts.Prometheus != "http://"+cfg.PrometheusAddr || len(page.Alerts.Firing) != 1 || page.Alerts.Firing[0].Name != "PyshipTestAlert" ||
			page.Alerts.Firing[0].Severity != "page" || page.Alerts.Firing[0].App != "stdapp" {
			return fmt.Errorf("alerts = %+v", page.Alerts)
		}
		return nil
	})

	// monitor down stops both, and the page says none is configured.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if stopped, err := c.MonitorDown(ctx); err != nil || !stopped {
		t.Fatalf("monitor down = %v, %v", stopped, err)
	}
	for _, addr := range []string{cfg.PrometheusAddr, cfg.AlertmanagerAddr} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still answers after monitor down", addr)
		}
	}
	var page statusPage
	if err := getJSON("http://"+a.adminAddr+"/status/data.json", &page); err != nil || page.Alerts.Configured {
		t.Errorf("after monitor down the page shows alerts %+v (%v)", page.Alerts, err)
	}
	if _, err := os.Stat(filepath.Join(home, "monitor", "monitor.json")); !os.IsNotExist(err) {
		t.Errorf("monitor down left the saved settings: %v", err)
	}
	if stopped, err := c.MonitorDown(ctx); err != nil || stopped {
		t.Errorf("a second monitor down = %v, %v; want nothing stopped", stopped, err)
	}
}

// waitScrapesAgent waits for the Prometheus on prom to scrape a's /metrics (up == 1).
func waitScrapesAgent(t *testing.T, prom string, a *Agent) {
	t.Helper()
	testsvc.Eventually(t, 60*time.Second, "Prometheus to scrape the agent (up == 1)", func() error {
		got, err := promQuery(prom, `up{job="pyship"}`)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0]["__value__"] != "1" || got[0]["instance"] != a.adminAddr {
			return fmt.Errorf("up = %v", got)
		}
		return nil
	})
}

// promQuery returns the labels and value of each series of an instant query.
func promQuery(prom, q string) ([]map[string]string, error) {
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON("http://"+prom+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, s := range r.Data.Result {
		m := s.Metric
		m["__value__"], _ = s.Value[1].(string)
		out = append(out, m)
	}
	return out, nil
}

// The stack's configuration is generated from the apps' stable releases through
// Agent.MonitorFiles, again after each deploy, and Prometheus reloads it.
func TestMonitorConfigFollowsDeploys(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	gen := func(in MonitorInput) error {
		if err := StackFiles(in); err != nil {
			return err
		}
		var rules []map[string]any
		for name, p := range in.Plans {
			rules = append(rules, map[string]any{"record": "pyship_test_app_info", "expr": "vector(1)",
				"labels": map[string]string{"app": name, "version": p.Version}})
		}
		b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "test", "rules": rules}}})
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(in.Dir, "rules", "apps.yml"), b, 0o644)
	}
	c, _, shutdown := runAgent(t, home, func(a *Agent) { a.MonitorFiles = gen })
	t.Cleanup(func() {
		c.Act(context.Background(), "stdapp", "stop")
		shutdown()
	})
	cfg := monitorUp(t, c)
	pub := port(t)
	for _, v := range []string{"v1", "v2"} {
		m := build(t, home, stdlibPlan(stdlibApp(t, ""), v, "rolling", pub))
		deploy(t, c, m)
		testsvc.Eventually(t, 60*time.Second, "Prometheus to evaluate the rules generated for "+v, func() error {
			got, err := promQuery(cfg.PrometheusAddr, "pyship_test_app_info")
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0]["app"] != "stdapp" || got[0]["version"] != v {
				return fmt.Errorf("pyship_test_app_info = %v", got)
			}
			return nil
		})
	}
}

func TestMonitorUpComesBackWithTheAgent(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c, _, shutdown := runAgent(t, home)
	cfg := monitorUp(t, c)
	shutdown()
	if conn, err := net.DialTimeout("tcp", cfg.PrometheusAddr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("Prometheus outlived its agent")
	}
	c, _, shutdown = runAgent(t, home)
	t.Cleanup(shutdown)
	testsvc.Eventually(t, 60*time.Second, "the next agent to start Prometheus and Alertmanager again", func() error {
		for _, addr := range []string{cfg.PrometheusAddr, cfg.AlertmanagerAddr} {
			resp, err := http.Get("http://" + addr + "/-/ready")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("%s: %s", addr, resp.Status)
			}
		}
		return nil
	})
	if stopped, err := c.MonitorDown(t.Context()); err != nil || !stopped {
		t.Errorf("monitor down = %v, %v", stopped, err)
	}
}

func TestMonitorBinariesMissing(t *testing.T) {
	empty := t.TempDir()
	_, _, err := MonitorBinaries(empty)
	if err == nil || !strings.Contains(err.Error(), "apt-get install prometheus prometheus-alertmanager") ||
		!strings.Contains(err.Error(), "https://prometheus.io/download/") || !strings.Contains(err.Error(), "prometheus and alertmanager") {
		t.Fatalf("MonitorBinaries with neither = %v", err)
	}
	// Debian's name for Alertmanager is found too.
	for _, n := range []string{"prometheus", "prometheus-alertmanager"} {
		if err := os.WriteFile(filepath.Join(empty, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prom, am, err := MonitorBinaries(empty)
	if err != nil || prom != filepath.Join(empty, "prometheus") || am != filepath.Join(empty, "prometheus-alertmanager") {
		t.Fatalf("MonitorBinaries = %q, %q, %v", prom, am, err)
	}
	// The agent refuses settings it cannot run, before starting anything.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	a := &Agent{Home: t.TempDir()}
	for _, cfg := range []MonitorConfig{
		{Prometheus: prom, Alertmanager: am, AlertmanagerAddr: busy.Addr().String(), PrometheusAddr: "127.0.0.1:1"},
		{Prometheus: "/nonexistent/prometheus", Alertmanager: am},
		{Prometheus: prom, Alertmanager: am, PrometheusAddr: "127.0.0.1"},
		{Prometheus: prom, Alertmanager: am, PrometheusAddr: "127.0.0.1:9093"},
	} {
		if _, err := a.monitorUp(t.Context(), cfg); err == nil {
			t.Errorf("monitor up %+v succeeded", cfg)
		} else if _, ok := a.monitor.running(); ok {
			t.Errorf("monitor up %+v failed (%v) but left processes", cfg, err)
		}
	}
}

// An agent killed without stopping its stack leaves Prometheus and Alertmanager running: the
// next agent ends them and starts its own, instead of failing on their addresses.
func TestMonitorEndsTheStaleStackOfAKilledAgent(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c, a, shutdown := runAgent(t, home)
	cfg := monitorUp(t, c)
	pids := func() map[string]int {
		out := map[string]int{}
		for _, n := range []string{"prometheus", "alertmanager"} {
			b, _ := os.ReadFile(filepath.Join(home, "monitor", n+".pid"))
			out[n], _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return out
	}
	old := pids()
	// What a kill -9 of the agent leaves: the processes run on, unsupervised.
	a.monitor.mu.Lock()
	for _, ch := range a.monitor.children {
		close(ch.quit)
	}
	a.monitor.children = nil
	a.monitor.mu.Unlock()
	shutdown()
	for n, pid := range old {
		if pid == 0 || syscall.Kill(pid, 0) != nil {
			t.Fatalf("the %s process (pid %d) does not run on after its agent", n, pid)
		}
	}
	c, _, shutdown = runAgent(t, home)
	t.Cleanup(shutdown)
	testsvc.Eventually(t, 60*time.Second, "the next agent to replace the stale processes", func() error {
		now := pids()
		for n, pid := range now {
			if pid == 0 || pid == old[n] || syscall.Kill(old[n], 0) == nil {
				return fmt.Errorf("%s: pid %d, was %d", n, pid, old[n])
			}
		}
		resp, err := http.Get("http://" + cfg.PrometheusAddr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	if stopped, err := c.MonitorDown(t.Context()); err != nil || !stopped {
		t.Errorf("monitor down = %v, %v", stopped, err)
	}
}
