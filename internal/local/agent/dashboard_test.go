package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/monitor/dashboard"
	pplan "github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// grafanaVars are values for Grafana's own variables, as Grafana would choose them for the
// last few minutes at 1 s scrapes; the datasource variable is the Prometheus queried.
var grafanaVars = strings.NewReplacer("$__rate_interval", "15s", "$__interval", "2s", "${__interval}", "2s")

// promSeries is one series of a query_range answer.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// queryRange runs expr over the last window on the Prometheus at base.
func queryRange(ctx context.Context, base, expr string, window time.Duration) ([]promSeries, error) {
	now := time.Now()
	q := url.Values{"query": {expr}, "start": {fmt.Sprint(now.Add(-window).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"2"}}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/query_range?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status, Error string
		Data          struct {
			Result []promSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding the answer (%s): %w", resp.Status, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("prometheus refuses the query: %s", out.Error)
	}
	return out.Data.Result, nil
}

// numbers counts the samples of rs that are numbers (not NaN or ±Inf).
func numbers(rs []promSeries) int {
	n := 0
	for _, s := range rs {
		for _, v := range s.Values {
			if x, _ := v[1].(string); x != "NaN" && x != "+Inf" && x != "-Inf" {
				n++
			}
		}
	}
	return n
}

// sloRules are internal/monitor's SLO recording rules and alerts for the app's objectives,
// as `pyship monitor render` writes them.
func sloRules(t *testing.T, app string, m *pplan.Monitor) string {
	t.Helper()
	rules, err := monitor.Rules(app, m, monitor.RuleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// privatePrometheus runs Prometheus with rules, scraping target every second, until the test
// ends, and returns its address.
func privatePrometheus(t *testing.T, bin, target, rules string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: agent\n    static_configs: [{targets: [%q]}]\n", target)
	for name, data := range map[string]string{"prometheus.yml": cfg, "rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port(t))
	testsvc.Process(t, bin, "http://"+addr+"/-/ready", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	return "http://" + addr
}

// TestDashboardQueriesOnRealPrometheus serves the Flask example under gunicorn, deploys a
// second release as a canary under load, has Prometheus scrape the agent, and runs every
// query of the app's dashboard (panels and deploy annotations) against it: each returns data.
// The shared Prometheus answers all but the SLO panels; those need recording rules, which a
// private Prometheus evaluates from stand-ins of RULES's rules.
func TestDashboardQueriesOnRealPrometheus(t *testing.T) {
	t.Parallel()
	prom := testsvc.Start(t, "prometheus")
	env := pipEnv(t)
	app := fmt.Sprintf("dash%d", time.Now().UnixNano()%1e9) // fresh series in the shared Prometheus
	dir := testsvc.CopyTree(t, filepath.Join(testsvc.RepoRoot(t), "examples", "flask"))
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	plan := func(version, strategy string) *release.Manifest {
		p := examplePlan(t, dir, version, strategy, pub)
		p.Name = app
		p.Deploy.Canary.Pause = "5s"
		return build(t, home, p, env...)
	}
	m1 := plan("v1", "rolling")
	if ev := deploy(t, c, m1); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v1: %+v", ev.Final)
	}
	st, err := c.Status(t.Context(), app)
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSuffix(strings.TrimPrefix(st[0].Metrics, "http://"), "/metrics")
	testsvc.Scrape(t, admin)
	slos := &pplan.Monitor{Window: pplan.DefaultSLOWindow, Availability: 99.9, Latency: "300ms", LatencyPercentile: pplan.DefaultLatencyPercentile}
	private := privatePrometheus(t, prom["PYSHIP_TEST_PROMETHEUS_BIN"], admin, sloRules(t, app, slos))

	l := startLoad(url, 4)
	defer l.stop()
	l.waitFor(t, 50)
	m2 := plan("v2", "canary")
	if ev := deploy(t, c, m2); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v2: %+v", ev.Final)
	}
	l.waitFor(t, 50)

	d, err := dashboard.New(dashboard.Options{App: app, Availability: true, Latency: true})
	if err != nil {
		t.Fatal(err)
	}
	type query struct{ where, expr string }
	var queries []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			queries = append(queries, query{fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			queries = append(queries, query{"annotation " + a.Name, a.Expr})
		}
	}
	for _, q := range queries {
		base := prom["PYSHIP_TEST_PROMETHEUS"]
		if strings.Contains(q.expr, "pyship_slo:") {
			base = private
		}
		expr := grafanaVars.Replace(q.expr)
		var got []promSeries
		testsvc.Eventually(t, 60*time.Second, q.where+" to return data from "+base, func() error {
			rs, err := queryRange(t.Context(), base, expr, 3*time.Minute)
			if err != nil {
				return err
			}
			if numbers(rs) == 0 {
				return fmt.Errorf("no data for %s", expr)
			}
			got = rs
			return nil
		})
		t.Logf("%s: %d series, %d samples", q.where, len(got), numbers(got))
		releases := map[string]bool{}
		for _, s := range got {
			releases[s.Metric["release"]] = true
		}
		// The canary ran both releases side by side, so the per-release panels show both.
		if strings.Contains(q.expr, "by (release") && !strings.HasPrefix(q.where, "annotation") &&
			!strings.Contains(q.where, "Running releases") && (!releases[m1.ID] || !releases[m2.ID]) {
			t.Errorf("%s has releases %v, want %s and %s", q.where, releases, m1.ID, m2.ID)
		}
	}
}

// TestDashboardErrorRateOnRealPrometheus deploys a canary that answers every request with a
// 500 under load (it is rolled back): on the real Prometheus the dashboard's 5xx panel shows the
// canary's errors and none for the stable release, and the deploy annotations sit at the
// releases' deploy starts.
func TestDashboardErrorRateOnRealPrometheus(t *testing.T) {
	t.Parallel()
	prom := testsvc.Start(t, "prometheus")
	app := fmt.Sprintf("err%d", time.Now().UnixNano()%1e9)
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	plan := func(mode, version string) *release.Manifest {
		p := stdlibPlan(stdlibApp(t, mode), version, "canary", pub)
		p.Name = app
		// The canary step lasts several 1 s scrapes even on a loaded machine, so that
		// Prometheus sees the failing release's counters grow (a rate needs two samples).
		p.Deploy.Canary.Pause = "5s"
		return build(t, home, p)
	}
	m1 := plan("", "v1")
	deploy(t, c, m1)
	st, err := c.Status(t.Context(), app)
	if err != nil {
		t.Fatal(err)
	}
	testsvc.Scrape(t, strings.TrimSuffix(strings.TrimPrefix(st[0].Metrics, "http://"), "/metrics"))
	l := startLoad(url, 4)
	defer l.stop()
	l.waitFor(t, 50)
	m2 := plan("error500", "v2")
	if ev := deploy(t, c, m2); ev.Final.Phase != rollout.RolledBack {
		t.Fatalf("the failing canary ended %s, want rolled-back", ev.Final.Phase)
	}
	l.waitFor(t, 50)

	d, err := dashboard.New(dashboard.Options{App: app})
	if err != nil {
		t.Fatal(err)
	}
	var errExpr string
	for _, p := range d.Panels {
		if p.Title == "5xx error rate" {
			errExpr = grafanaVars.Replace(p.Targets[0].Expr)
		}
	}
	maxOf := func(s promSeries) float64 {
		m := 0.0
		for _, v := range s.Values {
			var x float64
			if _, err := fmt.Sscan(v[1].(string), &x); err == nil && x > m {
				m = x
			}
		}
		return m
	}
	testsvc.Eventually(t, 60*time.Second, "the 5xx panel to show the canary's errors", func() error {
		rs, err := queryRange(t.Context(), prom["PYSHIP_TEST_PROMETHEUS"], errExpr, 3*time.Minute)
		if err != nil {
			return err
		}
		got := map[string]float64{}
		for _, s := range rs {
			got[s.Metric["release"]] = maxOf(s)
		}
		if got[m2.ID] < 0.5 || got[m1.ID] != 0 {
			return fmt.Errorf("peak error rate per release %v, want %s near 1 and %s at 0", got, m2.ID, m1.ID)
		}
		return nil
	})
	// The annotations' series values are the deploy starts, in milliseconds.
	testsvc.Eventually(t, 30*time.Second, "the deploy annotations at the deploy starts", func() error {
		rs, err := queryRange(t.Context(), prom["PYSHIP_TEST_PROMETHEUS"], dashboard.DeployAnnotationExpr(app), 3*time.Minute)
		if err != nil {
			return err
		}
		at := map[string]float64{}
		for _, s := range rs {
			at[s.Metric["release"]+"/"+s.Metric["version"]+"/"+s.Metric["strategy"]] = maxOf(s)
		}
		for _, m := range []*release.Manifest{m1, m2} {
			ms := at[m.ID+"/"+m.Version+"/canary"]
			if started := time.UnixMilli(int64(ms)); started.Before(m.Created) || time.Since(started) > 5*time.Minute {
				return fmt.Errorf("annotation of %s at %v (built %v): %v", m.ID, started, m.Created, at)
			}
		}
		return nil
	})
}
