package monitor

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pyship/pyship/internal/plan"
)

// RuleFile is a Prometheus rule file (the format `promtool check rules` reads); its Groups are
// also the spec.groups of a Prometheus Operator PrometheusRule.
type RuleFile struct {
	Groups []RuleGroup `json:"groups" yaml:"groups"`
}

// RuleGroup is a group of rules evaluated together, in order.
type RuleGroup struct {
	Name  string `json:"name" yaml:"name"`
	Rules []Rule `json:"rules" yaml:"rules"`
}

// Rule is a recording rule (Record set) or an alerting rule (Alert set).
type Rule struct {
	Record      string            `json:"record,omitempty" yaml:"record,omitempty"`
	Alert       string            `json:"alert,omitempty" yaml:"alert,omitempty"`
	Expr        string            `json:"expr" yaml:"expr"`
	For         string            `json:"for,omitempty" yaml:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Series and alert names: a stable interface that dashboards, the canary's burn-rate hold and
// users' own rules rely on (docs/monitoring.md).
const (
	errorRatioPrefix = "pyship_slo:sli_error:ratio_rate"
	ObjectiveSeries  = "pyship_slo:objective:ratio"
	BudgetSeries     = "pyship_slo:error_budget_remaining:ratio"
	AlertBurnFast    = "PyshipSLOBurnFast"
	AlertBurnSlow    = "PyshipSLOBurnSlow"
	AlertAppDown     = "PyshipAppDown"
)

// ErrorRatioSeries is the recording rule holding an SLO's ratio of bad events over window
// (one of Windows), e.g. pyship_slo:sli_error:ratio_rate5m.
func ErrorRatioSeries(window string) string { return errorRatioPrefix + window }

// Windows are the rate windows of the recording rules: the short and long windows of the
// burn-rate alerts.
func Windows() []string { return []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} }

// burnAlert is one line of the SRE workbook's multi-window, multi-burn-rate table: the alert
// fires when both windows burn budget faster than spending budgetShare of the whole SLO
// window's budget within long would.
type burnAlert struct {
	long, short string
	budgetShare float64
}

// burnAlerts are the workbook's table (Sloth's too): page on 2 % of the budget spent in 1h or
// 5 % in 6h, ticket on 10 % in 1d or 3d. Over 30 days these are the burn rates 14.4, 6, 3 and 1.
func burnAlerts() (page, ticket []burnAlert) {
	return []burnAlert{{"1h", "5m", 0.02}, {"6h", "30m", 0.05}},
		[]burnAlert{{"1d", "2h", 0.10}, {"3d", "6h", 0.10}}
}

// SLO is one objective: the share of good events Objective (0.999) and how bad events are
// counted over a window.
type SLO struct {
	// Name is the slo label: "availability" or "latency".
	Name      string
	Objective float64
	// Describe says in words what the objective is, for alert texts.
	Describe string
	// errorRatio is the PromQL ratio of bad events to all events over a window.
	errorRatio func(window string) string
	scope      scope
}

// scope is the series an app's rules are about: those with its app label and the extra labels
// (namespace on Kubernetes, so that two namespaces' apps of one name stay apart).
type scope struct {
	labels map[string]string
	names  []string // sorted
}

func newScope(app string, extra map[string]string) scope {
	sc := scope{labels: map[string]string{"app": app}}
	for k, v := range extra {
		sc.labels[k] = v
	}
	for k := range sc.labels {
		sc.names = append(sc.names, k)
	}
	sort.Strings(sc.names)
	return sc
}

// selector is `app="shop",namespace="prod"`.
func (sc scope) selector() string {
	var parts []string
	for _, k := range sc.names {
		parts = append(parts, fmt.Sprintf("%s=%q", k, sc.labels[k]))
	}
	return strings.Join(parts, ",")
}

// by is the aggregation op keeping the scope's labels: `sum by (app, namespace)`.
func (sc scope) by(op string) string { return op + " by (" + strings.Join(sc.names, ", ") + ")" }

// with returns the scope's labels plus kv (pairs), for a rule's static labels.
func (sc scope) with(kv ...string) map[string]string {
	m := maps.Clone(sc.labels)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// SLOs are the objectives of m for the app (none when m is nil). labels are extra labels the
// app's series carry (e.g. namespace), matched by every selector and kept by every sum.
func SLOs(app string, m *plan.Monitor, labels map[string]string) ([]SLO, error) {
	if m == nil {
		return nil, nil
	}
	sc := newScope(app, labels)
	var out []SLO
	if m.Availability > 0 {
		if m.Availability >= 100 {
			return nil, fmt.Errorf("[monitor] availability must be less than 100, got %g", m.Availability)
		}
		out = append(out, SLO{Name: "availability", Objective: m.Availability / 100, scope: sc,
			Describe:   fmt.Sprintf("%g%% of requests not 5xx", m.Availability),
			errorRatio: func(w string) string { return availabilityErrors(sc, w) }})
	}
	if m.Latency != "" {
		d, err := time.ParseDuration(m.Latency)
		if err != nil {
			return nil, fmt.Errorf("reading [monitor] latency: %w", err)
		}
		if m.LatencyPercentile <= 0 || m.LatencyPercentile >= 100 {
			return nil, fmt.Errorf("[monitor] latency_percentile must be in (0, 100), got %g", m.LatencyPercentile)
		}
		le := strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
		out = append(out, SLO{Name: "latency", Objective: m.LatencyPercentile / 100, scope: sc,
			Describe:   fmt.Sprintf("%g%% of requests within %s", m.LatencyPercentile, m.Latency),
			errorRatio: func(w string) string { return latencyErrors(sc, le, w) }})
	}
	return out, nil
}

// availabilityErrors is the share of 5xx among all requests over w: the app's 5xx
// (pyship_requests_total) plus the proxy's 502/503/504 (pyship_proxy_errors_total), over
// every request the latency histogram counted (the same two, never what the proxy refused).
// Either error series may be absent (no such error yet): the sum falls back to the one that
// exists, then to 0 while there is traffic.
func availabilityErrors(sc scope, w string) string {
	sel, by := sc.selector(), sc.by("sum")
	app := fmt.Sprintf(`%s (rate(pyship_requests_total{%s,code=~"5.."}[%s]))`, by, sel, w)
	proxy := fmt.Sprintf(`%s (rate(pyship_proxy_errors_total{%s,code=~"5.."}[%s]))`, by, sel, w)
	total := fmt.Sprintf(`%s (rate(pyship_request_duration_seconds_count{%s}[%s]))`, by, sel, w)
	return fmt.Sprintf("(\n  (%s + %s)\n  or %s\n  or %s\n  or 0 * %s\n)\n/ %s", app, proxy, app, proxy, total, total)
}

// latencyErrors is the share of requests slower than the bucket bound le over w.
func latencyErrors(sc scope, le, w string) string {
	sel, by := sc.selector(), sc.by("sum")
	return fmt.Sprintf("1 - (\n  %s (rate(pyship_request_duration_seconds_bucket{%s,le=%q}[%s]))\n  / %s (rate(pyship_request_duration_seconds_count{%s}[%s]))\n)",
		by, sel, le, w, by, sel, w)
}

// RuleOptions choose the rules beside the SLOs'.
type RuleOptions struct {
	// Labels are extra labels of the app's series, matched by every selector and kept by every
	// sum, e.g. {"namespace": "shop"} on Kubernetes.
	Labels map[string]string
	// AppDown adds PyshipAppDown from the local agent's pyship_replica_ready.
	AppDown bool
}

// Rules returns the recording rules and alerts of the app's objectives (m may be nil: no
// objective), in two groups: pyship-slo-APP records, pyship-alerts-APP alerts.
func Rules(app string, m *plan.Monitor, o RuleOptions) (RuleFile, error) {
	slos, err := SLOs(app, m, o.Labels)
	if err != nil {
		return RuleFile{}, err
	}
	var window model.Duration
	if m != nil {
		if window, err = model.ParseDuration(m.Window); err != nil || window <= 0 {
			return RuleFile{}, fmt.Errorf("reading [monitor] window %q: must be a duration like \"28d\"", m.Window)
		}
	}
	var rec, alerts []Rule
	for _, s := range slos {
		rec = append(rec, recordingRules(s, m.Window)...)
		alerts = append(alerts, burnRateAlerts(app, s, time.Duration(window), m.Window)...)
	}
	if o.AppDown {
		sc := newScope(app, o.Labels)
		sel := sc.selector()
		// A stopped app has no replica, hence no series: absent only counts while the agent
		// itself cannot be scraped.
		alerts = append(alerts, Rule{Alert: AlertAppDown,
			Expr: fmt.Sprintf("%s (pyship_replica_ready{%s}) < 1\nor (absent(pyship_replica_ready{%s}) and on () (up{job=%q} == 0))",
				sc.by("max"), sel, sel, ScrapeJob),
			For:    "2m",
			Labels: map[string]string{"severity": "page", "app": app}, // also when absent() has no app label
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("%s has no ready replica", app),
				"description": fmt.Sprintf("No replica of %s has passed its readiness check for 2 minutes, or the agent's /metrics cannot be scraped: the app answers 503 or not at all. See `pyship status` and `pyship logs`.", app),
			}})
	}
	var f RuleFile
	if len(rec) > 0 {
		f.Groups = append(f.Groups, RuleGroup{Name: "pyship-slo-" + app, Rules: rec})
	}
	if len(alerts) > 0 {
		f.Groups = append(f.Groups, RuleGroup{Name: "pyship-alerts-" + app, Rules: alerts})
	}
	return f, nil
}

func recordingRules(s SLO, window string) []Rule {
	var rules []Rule
	for _, w := range Windows() {
		rules = append(rules, Rule{Record: ErrorRatioSeries(w), Expr: s.errorRatio(w), Labels: map[string]string{"slo": s.Name}})
	}
	rules = append(rules,
		Rule{Record: ObjectiveSeries, Expr: "vector(" + num(s.Objective) + ")", Labels: s.scope.with("slo", s.Name)},
		// 1 - (bad share over the window) / (bad share allowed): 1 untouched, 0 spent, < 0 overspent.
		Rule{Record: BudgetSeries, Expr: fmt.Sprintf("1 - (\n%s\n) / %s", s.errorRatio(window), num(1-s.Objective)), Labels: map[string]string{"slo": s.Name}})
	return rules
}

// burnRateAlerts are the page (fast) and ticket (slow) alerts of s. Each fires when the error
// ratio over both the long and the short window of a line of the table exceeds the burn rate
// times the budget (1 - objective); the short window makes it stop soon after the burn does.
func burnRateAlerts(app string, s SLO, window time.Duration, windowText string) []Rule {
	page, ticket := burnAlerts()
	budget := 1 - s.Objective
	match := fmt.Sprintf(`{%s,slo=%q}`, s.scope.selector(), s.Name)
	alert := func(name, severity, speed string, lines []burnAlert) Rule {
		var conds []string
		for _, l := range lines {
			long, _ := model.ParseDuration(l.long)
			rate := math.Round(l.budgetShare*float64(window)/float64(long)*1e4) / 1e4
			th := fmt.Sprintf("(%s * %s)", num(rate), num(budget))
			conds = append(conds, fmt.Sprintf("(\n  %s%s > %s\n  and\n  %s%s > %s\n)",
				ErrorRatioSeries(l.long), match, th, ErrorRatioSeries(l.short), match, th))
		}
		burnWindow := lines[0].long
		left := BudgetSeries + match
		// Time to exhaustion: the budget left, spent at the burn rate (error ratio / budget)
		// of the alert's first long window.
		exhaustion := fmt.Sprintf("round(%s * %s * %s / %s%s)", left, num(window.Seconds()), num(budget), ErrorRatioSeries(burnWindow), match)
		budgetLeft := fmt.Sprintf("{{ with query %q }}{{ . | first | value | humanizePercentage }}{{ end }}", left)
		timeLeft := fmt.Sprintf("{{ with query %q }}{{ with query %q }}{{ . | first | value | humanizeDuration }}{{ end }}{{ else }}none: the budget is spent{{ end }}", left+" > 0", exhaustion)
		return Rule{Alert: name, Expr: strings.Join(conds, "\nor\n"),
			Labels: map[string]string{"severity": severity, "slo": s.Name, "app": app},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("%s is burning its %s error budget %s", app, s.Name, speed),
				"description": fmt.Sprintf("Objective: %s over %s (error budget %s). Error ratio over the alert's long window: {{ $value | humanizePercentage }}. "+
					"Error budget left: %s. Time to exhaustion at the last %s's burn rate: %s.",
					s.Describe, windowText, num(budget*100)+"%", budgetLeft, burnWindow, timeLeft),
				"budget_left":        budgetLeft,
				"time_to_exhaustion": timeLeft,
			}}
	}
	return []Rule{
		alert(AlertBurnFast, "page", "fast", page),
		alert(AlertBurnSlow, "ticket", "slowly", ticket),
	}
}

// num writes x with at most 10 significant digits, so that 1 - 0.999 reads 0.001.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 10, 64) }
