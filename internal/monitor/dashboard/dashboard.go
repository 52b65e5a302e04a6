package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// Options say what the dashboard of an app shows.
type Options struct {
	// App is the app's name, the value of the app label of its series.
	App string
	// Availability and Latency say which objectives [monitor] sets: each adds its series to
	// the SLO panels, which are left out when neither is set.
	Availability, Latency bool
}

// DatasourceVar is the template variable every panel and query takes its Prometheus from.
const DatasourceVar = "datasource"

// ds is the data source of every query: the one the variable picks.
var ds = Datasource{Type: "prometheus", UID: "${" + DatasourceVar + "}"}

// UID is the dashboard's uid for app: the same on every run, at most 40 characters of
// Grafana's [a-zA-Z0-9_-]. It reads "pyship-" and the app's name (cut to 24 characters), and
// ends with 8 hex digits of the name's SHA-256, so names that differ only beyond the cut or in
// characters Grafana refuses still get uids of their own.
func UID(app string) string {
	var b strings.Builder
	for _, r := range app {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() == 24 {
			break
		}
	}
	sum := sha256.Sum256([]byte(app))
	return "pyship-" + b.String() + "-" + hex.EncodeToString(sum[:4])
}

// ForPlan is the dashboard of the planned app, with SLO panels for the objectives its
// [monitor] table sets.
func ForPlan(p *plan.Plan) ([]byte, error) {
	o := Options{App: p.Name}
	if m := p.Monitor; m != nil {
		o.Availability, o.Latency = m.Availability > 0, m.Latency != ""
	}
	return JSON(o)
}

// JSON is the dashboard of o.App as Grafana imports it.
func JSON(o Options) ([]byte, error) {
	d, err := New(o)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // PromQL's & and < stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("writing the dashboard of %s: %w", o.App, err)
	}
	return b.Bytes(), nil
}

// New builds the dashboard of o.App.
func New(o Options) (Dashboard, error) {
	if o.App == "" {
		return Dashboard{}, fmt.Errorf("building a dashboard: no app name (the spec's name)")
	}
	sel := "app=" + strconv.Quote(o.App) // a PromQL string literal takes Go's escapes
	// Requests are the app's answers and the proxy's own 502/503/504, as the SLIs count them.
	reqs := func(extra string) string {
		return fmt.Sprintf(`sum by (release) (rate({__name__=~"pyship_requests_total|pyship_proxy_errors_total",%s%s}[$__rate_interval]))`, sel, extra)
	}
	latency := func(q string) string {
		return fmt.Sprintf(`histogram_quantile(%s, sum by (release, le) (rate(pyship_request_duration_seconds_bucket{%s}[$__rate_interval])))`, q, sel)
	}
	zero, one, hundred := 0.0, 1.0, 100.0
	panels := []Panel{
		{Type: "timeseries", Title: "Requests per second", Description: "Requests answered per release: the app's answers and the proxy's own 502/503/504.",
			Targets:     []Target{target(reqs(""), "{{release}}")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "reqps", Min: &zero}}},
		{Type: "timeseries", Title: "5xx error rate", Description: "Share of each release's requests answered with a 5xx, by the app or the proxy (0 while there are none).",
			Targets: []Target{target(fmt.Sprintf(`(%s or 0 * %s) / %s`, reqs(`,code=~"5.."`), reqs(""), reqs("")), "{{release}}")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "percentunit", Min: &zero, Max: &one,
				Thresholds: &Thresholds{Mode: "absolute", Steps: []Step{{Color: "green"}, {Color: "red", Value: ptr(0.05)}}}}}},
		{Type: "timeseries", Title: "Latency p50 / p95 / p99", Description: "Request duration quantiles per release, from pyship_request_duration_seconds.",
			Targets: []Target{target(latency("0.5"), "{{release}} p50"), target(latency("0.95"), "{{release}} p95"),
				target(latency("0.99"), "{{release}} p99")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "s", Min: &zero}}},
		{Type: "timeseries", Title: "Traffic weights", Description: "Percent of the app's traffic each release gets (during a canary, its steps).",
			Targets:     []Target{target(fmt.Sprintf(`max by (release) (pyship_traffic_weight{%s})`, sel), "{{release}}")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "percent", Min: &zero, Max: &hundred}}},
		{Type: "timeseries", Title: "Ready replicas", Description: "Replicas of each release that pass their readiness probe.",
			Targets:     []Target{target(fmt.Sprintf(`sum by (release) (pyship_replica_ready{%s})`, sel), "{{release}}")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "none", Min: &zero, Decimals: ptr(0)}}},
		{Type: "table", Title: "Running releases", Description: "Every release that runs, with its version, strategy and when its deploy started.",
			Targets:     []Target{instant(fmt.Sprintf(`max by (release, version, strategy) (pyship_release_info{%s}) * on (release) group_left () max by (release) (pyship_release_started_timestamp_seconds{%s}) * 1000`, sel, sel), "")},
			FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "dateTimeAsIso"}}},
	}
	if slos := sloFilter(o); slos != "" {
		s := fmt.Sprintf(`%s,slo=~%q`, sel, slos)
		panels = append(panels,
			Panel{Type: "timeseries", Title: "SLO error budget remaining", Description: "Share of the error budget left over the SLO window, per objective (1 = untouched, below 0 = overspent).",
				Targets: []Target{target(fmt.Sprintf(`pyship_slo:error_budget_remaining:ratio{%s}`, s), "{{slo}}")},
				FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "percentunit", Max: &one,
					Thresholds: &Thresholds{Mode: "absolute", Steps: []Step{{Color: "red"}, {Color: "orange", Value: &zero}, {Color: "green", Value: ptr(0.25)}}}}}},
			Panel{Type: "timeseries", Title: "SLO burn rate", Description: "How fast each objective spends its error budget (1 = exactly the budget over the window); the fast-burn page fires at 14.4 over 1h and 5m.",
				Targets: []Target{
					target(burn("1h", s), "{{slo}} 1h"), target(burn("6h", s), "{{slo}} 6h"), target(burn("3d", s), "{{slo}} 3d")},
				FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: "none", Min: &zero,
					Thresholds: &Thresholds{Mode: "absolute", Steps: []Step{{Color: "green"}, {Color: "orange", Value: &one}, {Color: "red", Value: ptr(14.4)}}}}}},
		)
	}
	for i := range panels {
		panels[i].ID = i + 1
		panels[i].Datasource = ds
		panels[i].FieldConfig.Overrides = []any{}
		// Two panels a row, 8 high.
		panels[i].GridPos = GridPos{H: 8, W: 12, X: 12 * (i % 2), Y: 8 * (i / 2)}
		for j := range panels[i].Targets {
			panels[i].Targets[j].RefID = string(rune('A' + j))
		}
	}
	return Dashboard{
		UID: UID(o.App), Title: "pyship / " + o.App, Tags: []string{"pyship"},
		Description: "Requests, errors and latency per release, traffic weights, replicas and SLO budget of " + o.App + " (generated by pyship).",
		Timezone:    "browser", Editable: true, GraphTooltip: 1, SchemaVersion: 39, Version: 1, Refresh: "30s",
		Time: TimeRange{From: "now-1h", To: "now"},
		Templating: Templating{List: []Variable{{Name: DatasourceVar, Label: "Prometheus", Type: "datasource", Query: "prometheus",
			Refresh: 1, Options: []any{}}}},
		Annotations: Annotations{List: []Annotation{
			{Name: "Annotations & Alerts", BuiltIn: 1, Type: "dashboard", Enable: true, Hide: true, IconColor: "rgba(0, 211, 255, 1)",
				Datasource: Datasource{Type: "grafana", UID: "-- Grafana --"}},
			{Name: "Deploys", Datasource: ds, Enable: true, IconColor: "#8AB8FF", Step: "60s", UseValueForTime: true,
				Expr:        DeployAnnotationExpr(o.App),
				TitleFormat: "deploy {{release}}", TextFormat: "version {{version}} ({{strategy}})", TagKeys: "release,strategy"},
		}},
		Panels: panels,
	}, nil
}

// DeployAnnotationExpr is the query of the deploy annotations: one series per running release
// whose value is its deploy's start in milliseconds, labelled with its version and strategy.
func DeployAnnotationExpr(app string) string {
	sel := "app=" + strconv.Quote(app)
	return fmt.Sprintf(`max by (release) (pyship_release_started_timestamp_seconds{%s}) * 1000 * on (release) group_left (version, strategy) max by (release, version, strategy) (pyship_release_info{%s})`, sel, sel)
}

// burn is the burn rate of the objectives s selects over window: the error ratio over the
// error budget (1 - objective).
func burn(window, s string) string {
	return fmt.Sprintf(`pyship_slo:sli_error:ratio_rate%s{%s} / on (app, slo) (1 - pyship_slo:objective:ratio{%s})`, window, s, s)
}

// sloFilter is the regex of the slo label values o's objectives give ("": none).
func sloFilter(o Options) string {
	var s []string
	if o.Availability {
		s = append(s, "availability")
	}
	if o.Latency {
		s = append(s, "latency")
	}
	return strings.Join(s, "|")
}

func target(expr, legend string) Target {
	return Target{Datasource: ds, Expr: expr, LegendFormat: legend, Range: true}
}

func instant(expr, legend string) Target {
	return Target{Datasource: ds, Expr: expr, LegendFormat: legend, Instant: true, Format: "table"}
}

func ptr[T any](v T) *T { return &v }
