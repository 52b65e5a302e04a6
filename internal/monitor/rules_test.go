package monitor

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
)

// series builds an input series name{app="shop",release="r1",extra} with values.
func series(name, extra, values string) inputSeries {
	sel := `app="shop",release="r1"`
	if extra != "" {
		sel += "," + extra
	}
	return inputSeries{Series: name + "{" + sel + "}", Values: values}
}

// fires expects alert to fire at evalTime for app shop with labels, and annotations when
// they are not nil (promtool then compares them all).
func fires(alert, evalTime string, labels, annotations map[string]string) alertRuleTest {
	l := map[string]string{"app": "shop"}
	for k, v := range labels {
		l[k] = v
	}
	return alertRuleTest{EvalTime: evalTime, Alertname: alert, ExpAlerts: []expAlert{{ExpLabels: l, ExpAnnotations: annotations}}}
}

// burnText is what a burn-rate alert says: objective, error ratio, budget left (spent: the
// time to exhaustion says so) and the window whose burn rate the time is measured at.
func burnText(speed, slo, objective, budget, ratio, left, burnWindow, exhaustion string) map[string]string {
	return map[string]string{
		"summary": "shop is burning its " + slo + " error budget " + speed,
		"description": "Objective: " + objective + " over 30d (error budget " + budget + "). Error ratio over the alert's long window: " + ratio +
			". Error budget left: " + left + ". Time to exhaustion at the last " + burnWindow + "'s burn rate: " + exhaustion + ".",
		"budget_left":        left,
		"time_to_exhaustion": exhaustion,
	}
}

const spent = "none: the budget is spent"

func quiet(alert, evalTime string) alertRuleTest {
	return alertRuleTest{EvalTime: evalTime, Alertname: alert}
}

// TestBurnRateAlerts runs the generated availability rules under `promtool test rules`: each
// alert fires when the error budget burns at its rate, and stays quiet otherwise. The window
// is 30 days, so the burn rates are the SRE workbook's 14.4 and 6 (page), 3 and 1 (ticket),
// and the budget of 99.9 % is 0.1 % of requests.
func TestBurnRateAlerts(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	writeRules(t, dir, "shop", &plan.Monitor{Window: "30d", Availability: 99.9}, RuleOptions{})
	page := map[string]string{"severity": "page", "slo": "availability"}
	ticket := map[string]string{"severity": "ticket", "slo": "availability"}
	count := func(perMin, minutes string) inputSeries {
		return series("pyship_request_duration_seconds_count", "", "0+"+perMin+"x"+minutes)
	}
	const objective = "99.9% of requests not 5xx"
	fast := func(ratio, left, exhaustion string) map[string]string {
		return burnText("fast", "availability", objective, "0.1%", ratio, left, "1h", exhaustion)
	}
	slow := func(ratio, left string) map[string]string {
		return burnText("slowly", "availability", objective, "0.1%", ratio, left, "1d", spent)
	}
	promtoolTest(t, bin, dir,
		// 120 errors in 144000 requests over the day: 1/12 of the 0.1 % spent in the window,
		// 1 - 1/1.2 = 16.67 % left; at 2 % (20x) that lasts 16.67 % x 30d x 0.1 % / 2 % = 6h.
		ruleTest{Name: "fast burn after a healthy day: 2% errors for the last hour pages, saying the budget left and the time to exhaustion",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("100", "1440"),
				series("pyship_requests_total", `code="500"`, "0x1380 2+2x59"),
			},
			AlertRuleTest: []alertRuleTest{
				quiet(AlertBurnFast, "23h"),
				fires(AlertBurnFast, "24h", page, fast("2%", "16.67%", "6h 0m 0s")),
				quiet(AlertBurnSlow, "24h"),
			}},
		ruleTest{Name: "2% errors from the start: the page fires within 5 minutes, the ticket too (1d and 2h over 3x), and the budget is spent",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("100", "120"),
				series("pyship_requests_total", `code="503"`, "0+2x120"),
			},
			AlertRuleTest: []alertRuleTest{
				fires(AlertBurnFast, "5m", page, fast("2%", "-1900%", spent)),
				fires(AlertBurnSlow, "2h", ticket, slow("2%", "-1900%")),
			}},
		ruleTest{Name: "the page stops soon after the burn does (short windows), the ticket stays",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("100", "180"),
				series("pyship_requests_total", `code="500"`, "0+2x60 120x120"),
			},
			AlertRuleTest: []alertRuleTest{
				fires(AlertBurnFast, "1h", page, fast("2%", "-1900%", spent)),
				quiet(AlertBurnFast, "2h"),
				fires(AlertBurnSlow, "2h", ticket, slow("1%", "-900%")),
			}},
		ruleTest{Name: "slow burn: 0.5% errors (5x) opens a ticket, no page",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("200", "360"),
				series("pyship_requests_total", `code="500"`, "0+1x360"),
			},
			AlertRuleTest: []alertRuleTest{
				quiet(AlertBurnFast, "6h"),
				fires(AlertBurnSlow, "6h", ticket, slow("0.5%", "-400%")),
			}},
		ruleTest{Name: "healthy: 0.05% errors (half the budget's rate) alerts nobody",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("2000", "360"),
				series("pyship_requests_total", `code="500"`, "0+1x360"),
			},
			AlertRuleTest: []alertRuleTest{
				quiet(AlertBurnFast, "1h"),
				quiet(AlertBurnFast, "6h"),
				quiet(AlertBurnSlow, "6h"),
			}},
		ruleTest{Name: "the app's and the proxy's 502s add up: 0.5% each is 1% (10x over 6h and 30m), a page; refused requests and 4xx never count",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("200", "60"),
				series("pyship_requests_total", `code="502"`, "0+1x60"),
				series("pyship_proxy_errors_total", `code="502"`, "0+1x60"),
				series("pyship_requests_total", `code="404"`, "0+50x60"),
				series("pyship_proxy_refused_total", `code="429"`, "0+500x60"),
			},
			AlertRuleTest: []alertRuleTest{fires(AlertBurnFast, "1h", page, fast("1%", "-900%", spent))}},
		ruleTest{Name: "the app's 5xx alone at 0.5% (5x) is no page",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("200", "60"),
				series("pyship_requests_total", `code="502"`, "0+1x60"),
			},
			AlertRuleTest: []alertRuleTest{quiet(AlertBurnFast, "1h")}},
		ruleTest{Name: "no traffic: no alert",
			Interval: "1m",
			InputSeries: []inputSeries{
				count("0", "120"),
			},
			AlertRuleTest: []alertRuleTest{quiet(AlertBurnFast, "2h"), quiet(AlertBurnSlow, "2h")}},
	)
}

// TestLatencyBurnRateAlerts: with p95 under 300 ms the budget is 5 % of requests slower than
// 300 ms; the page's 14.4x is then 72 % slow requests.
func TestLatencyBurnRateAlerts(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	writeRules(t, dir, "shop", &plan.Monitor{Window: "30d", Latency: "300ms", LatencyPercentile: 95}, RuleOptions{})
	page := map[string]string{"severity": "page", "slo": "latency"}
	ticket := map[string]string{"severity": "ticket", "slo": "latency"}
	bucket := func(perMin, minutes string) inputSeries {
		return series("pyship_request_duration_seconds_bucket", `le="0.3"`, "0+"+perMin+"x"+minutes)
	}
	count := series("pyship_request_duration_seconds_count", "", "0+100x360")
	const objective = "95% of requests within 300ms"
	promtoolTest(t, bin, dir,
		ruleTest{Name: "80% of requests over 300ms pages", Interval: "1m",
			InputSeries: []inputSeries{count, bucket("20", "360"),
				series("pyship_request_duration_seconds_bucket", `le="0.25"`, "0+10x360")},
			AlertRuleTest: []alertRuleTest{
				fires(AlertBurnFast, "30m", page, burnText("fast", "latency", objective, "5%", "80%", "-1500%", "1h", spent)),
				fires(AlertBurnSlow, "6h", ticket, burnText("slowly", "latency", objective, "5%", "80%", "-1500%", "1d", spent)),
			}},
		ruleTest{Name: "20% over 300ms (4x) is a ticket, no page", Interval: "1m",
			InputSeries: []inputSeries{count, bucket("80", "360")},
			AlertRuleTest: []alertRuleTest{
				quiet(AlertBurnFast, "6h"),
				fires(AlertBurnSlow, "6h", ticket, burnText("slowly", "latency", objective, "5%", "20%", "-300%", "1d", spent)),
			}},
		ruleTest{Name: "2% over 300ms is within the objective", Interval: "1m",
			InputSeries:   []inputSeries{count, bucket("98", "360")},
			AlertRuleTest: []alertRuleTest{quiet(AlertBurnFast, "6h"), quiet(AlertBurnSlow, "6h")}},
	)
}

// TestAppDownAlert: PyshipAppDown fires when no replica of the app has been ready for 2
// minutes, or when its series are missing because the agent cannot be scraped; a stopped app
// (no replica, agent up) is no alert.
func TestAppDownAlert(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	writeRules(t, dir, "shop", nil, RuleOptions{AppDown: true})
	down := map[string]string{"severity": "page"}
	ann := map[string]string{
		"summary":     "shop has no ready replica",
		"description": "No replica of shop has passed its readiness check for 2 minutes, or the agent's /metrics cannot be scraped: the app answers 503 or not at all. See `pyship status` and `pyship logs`.",
	}
	up := func(v string) inputSeries {
		return inputSeries{Series: `up{job="pyship",instance="127.0.0.1:9180"}`, Values: v}
	}
	promtoolTest(t, bin, dir,
		ruleTest{Name: "no ready replica", Interval: "1m",
			InputSeries: []inputSeries{
				up("1x10"),
				{Series: `pyship_replica_ready{app="shop",release="r1",replica="1"}`, Values: "1 0x10"},
				{Series: `pyship_replica_ready{app="shop",release="r1",replica="2"}`, Values: "1 0x10"},
			},
			AlertRuleTest: []alertRuleTest{quiet(AlertAppDown, "2m"), fires(AlertAppDown, "4m", down, ann)}},
		ruleTest{Name: "one ready replica of two is enough", Interval: "1m",
			InputSeries: []inputSeries{
				up("1x10"),
				{Series: `pyship_replica_ready{app="shop",release="r1",replica="1"}`, Values: "0x10"},
				{Series: `pyship_replica_ready{app="shop",release="r1",replica="2"}`, Values: "1x10"},
			},
			AlertRuleTest: []alertRuleTest{quiet(AlertAppDown, "10m")}},
		ruleTest{Name: "a stopped app: no series, the agent up", Interval: "1m",
			InputSeries: []inputSeries{
				up("1x10"),
				{Series: `pyship_replica_ready{app="other",release="r1",replica="1"}`, Values: "1x10"},
			},
			AlertRuleTest: []alertRuleTest{quiet(AlertAppDown, "10m")}},
		ruleTest{Name: "the agent cannot be scraped", Interval: "1m",
			InputSeries:   []inputSeries{up("1 0x10")},
			AlertRuleTest: []alertRuleTest{quiet(AlertAppDown, "2m"), fires(AlertAppDown, "4m", down, ann)}},
	)
}

// TestBurnRatesScaleWithTheWindow: the thresholds spend the same share of the budget whatever
// the window (2 % in 1h, 5 % in 6h, 10 % in 1d and in 3d), as Sloth does; over 30 days they
// are the workbook's 14.4, 6, 3 and 1.
func TestBurnRatesScaleWithTheWindow(t *testing.T) {
	for window, want := range map[string][]string{
		"30d": {"(14.4 * 0.001)", "(6 * 0.001)", "(3 * 0.001)", "(1 * 0.001)"},
		"28d": {"(13.44 * 0.001)", "(5.6 * 0.001)", "(2.8 * 0.001)", "(0.9333 * 0.001)"},
	} {
		f, err := Rules("shop", &plan.Monitor{Window: window, Availability: 99.9}, RuleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		alerts := f.Groups[1].Rules
		if len(alerts) != 2 {
			t.Fatalf("%s: %d alerts, want 2", window, len(alerts))
		}
		exprs := alerts[0].Expr + alerts[1].Expr
		for _, w := range want {
			if !strings.Contains(exprs, w) {
				t.Errorf("%s: alerts lack %s:\n%s", window, w, exprs)
			}
		}
	}
}

func TestRulesRejectABadPlan(t *testing.T) {
	for _, m := range []*plan.Monitor{
		{Window: "a month", Availability: 99.9},
		{Window: "28d", Availability: 100},
		{Window: "28d", Latency: "300", LatencyPercentile: 95},
		{Window: "28d", Latency: "300ms", LatencyPercentile: 100},
	} {
		if _, err := Rules("shop", m, RuleOptions{}); err == nil || !strings.Contains(err.Error(), "[monitor]") {
			t.Errorf("Rules(%+v) = %v, want an error naming [monitor]", m, err)
		}
	}
}

func TestAlertmanagerWithoutWebhook(t *testing.T) {
	c := Alertmanager("")
	if c.Route.Receiver != ReceiverNone || len(c.Receivers) != 1 || len(c.Receivers[0].SlackConfigs) != 0 {
		t.Errorf("without a webhook: %+v, want every alert to %s, which sends nothing", c, ReceiverNone)
	}
	c = Alertmanager("https://hooks.example/x")
	if c.Route.Receiver != ReceiverWebhook || c.Receivers[0].SlackConfigs[0].APIURL != "https://hooks.example/x" {
		t.Errorf("with a webhook: %+v", c)
	}
}

// TestKubernetesScopedRulesPassPromtool: with the namespace label (the PrometheusRule's rules)
// every selector matches it and every sum keeps it, and promtool still accepts the rules.
func TestKubernetesScopedRulesPassPromtool(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	m := &plan.Monitor{Window: "28d", Availability: 99.9, Latency: "300ms", LatencyPercentile: 95}
	writeRules(t, dir, "shop", m, RuleOptions{Labels: map[string]string{"namespace": "prod"}})
	run(t, bin, "check", "rules", filepath.Join(dir, RulesFile))
	f, err := Rules("shop", m, RuleOptions{Labels: map[string]string{"namespace": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record == ObjectiveSeries {
				if r.Labels["namespace"] != "prod" || r.Labels["app"] != "shop" {
					t.Errorf("%s labels %v, want app shop and namespace prod", r.Record, r.Labels)
				}
				continue
			}
			if !strings.Contains(r.Expr, `app="shop",namespace="prod"`) {
				t.Errorf("%s%s does not select namespace prod:\n%s", r.Record, r.Alert, r.Expr)
			}
			if strings.Contains(r.Expr, "sum by") && !strings.Contains(r.Expr, "sum by (app, namespace)") {
				t.Errorf("%s%s sums the namespace away:\n%s", r.Record, r.Alert, r.Expr)
			}
		}
	}
}
