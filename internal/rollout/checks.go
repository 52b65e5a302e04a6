package rollout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pyship/pyship/internal/monitor/promql"
)

// Check is a PromQL check of every canary step ([[deploy.canary.checks]]), as Argo Rollouts'
// AnalysisTemplates have them: the query's one value must be at most Max and at least Min.
type Check struct {
	Name string `json:"name"`
	// Query may use {{app}}, {{release}} (the canary), {{stable}} and {{namespace}}.
	Query string   `json:"query"`
	Max   *float64 `json:"max,omitempty"`
	Min   *float64 `json:"min,omitempty"`
}

// CheckResult is one check as judged: the query as run, its value and its thresholds.
type CheckResult struct {
	Name    string   `json:"name"`
	Query   string   `json:"query"`
	Value   *float64 `json:"value,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Outcome Outcome  `json:"outcome"`
	Reason  string   `json:"reason"`
	// Unreachable: Prometheus gave no answer. Hold: the check holds the step without failing
	// it (the SLO burn rate).
	Unreachable bool `json:"unreachable,omitempty"`
	Hold        bool `json:"hold,omitempty"`
}

// BurnRateCheck is the name of the check max_burn_rate adds.
const BurnRateCheck = "slo-burn-rate"

// BurnRateQuery is the app's availability burn rate over the last 5 minutes, from pyship's
// raw series (no recording rules needed): the 5xx share of its requests (the app's responses
// and the proxy's own 502/503/504) divided by the error budget 1 - objective (objective a
// fraction, e.g. 0.999). It selects by app and namespace ("" on the local target, whose series
// have none); no requests at all give no data.
func BurnRateQuery(objective float64) string {
	sel := `app="{{app}}",namespace="{{namespace}}"`
	rate := func(extra string) string {
		return fmt.Sprintf(`(sum(rate(pyship_requests_total{%[1]s%[2]s}[5m])) or vector(0)) + (sum(rate(pyship_proxy_errors_total{%[1]s%[2]s}[5m])) or vector(0))`, sel, extra)
	}
	budget := strconv.FormatFloat(1-objective, 'g', 6, 64)
	return fmt.Sprintf("(%s) / (%s) / %s", rate(`,code=~"5.."`), rate(""), budget)
}

// Querier answers an instant PromQL query with one value (*promql.Client); its errors are
// sorted with promql.ErrUnreachable and promql.ErrEmpty.
type Querier interface {
	Value(ctx context.Context, query string) (float64, error)
}

// checksOf lists the checks of c with the burn-rate hold last, when set.
func (c CanaryConfig) checksOf() []Check {
	out := append([]Check(nil), c.Checks...)
	if c.MaxBurnRate > 0 {
		m := c.MaxBurnRate
		out = append(out, Check{Name: BurnRateCheck, Query: BurnRateQuery(c.Objective), Max: &m})
	}
	return out
}

// RunChecks resolves and runs every check of the step against q (nil: no Prometheus is
// configured, and each check is unreachable, saying so).
func RunChecks(ctx context.Context, q Querier, c CanaryConfig, vars promql.Vars) []CheckResult {
	var out []CheckResult
	for _, ch := range c.checksOf() {
		query := promql.Resolve(ch.Query, vars)
		var v float64
		err := errNoPrometheus
		if q != nil {
			v, err = q.Value(ctx, query)
		}
		out = append(out, JudgeCheck(ch, query, v, err))
	}
	return out
}

var errNoPrometheus = fmt.Errorf("%w: no Prometheus to ask: set [deploy.canary] prometheus_url (or run `pyship monitor up` on the local target)", promql.ErrUnreachable)

// JudgeCheck decides one check from its value or the error of its query: outside a threshold
// fails (the burn rate only holds), no answer from Prometheus is inconclusive and marked
// Unreachable, no data is inconclusive, a query Prometheus refuses fails.
func JudgeCheck(ch Check, query string, value float64, err error) CheckResult {
	r := CheckResult{Name: ch.Name, Query: query, Max: ch.Max, Min: ch.Min, Hold: ch.Name == BurnRateCheck}
	switch {
	case errors.Is(err, promql.ErrUnreachable):
		r.Outcome, r.Unreachable = Inconclusive, true
		r.Reason = fmt.Sprintf("check %s: %v", ch.Name, err)
		return r
	case errors.Is(err, promql.ErrEmpty):
		r.Outcome = Inconclusive
		r.Reason = fmt.Sprintf("check %s: no data yet (a query that may select nothing can end in `or vector(0)`)", ch.Name)
		if r.Hold {
			r.Reason = fmt.Sprintf("check %s: no requests in the last 5m to compute a burn rate from", ch.Name)
		}
		return r
	case err != nil:
		r.Outcome = Fail
		r.Reason = fmt.Sprintf("check %s: %v", ch.Name, err)
		return r
	}
	r.Value = &value
	switch {
	case ch.Max != nil && value > *ch.Max:
		r.Outcome = Fail
		r.Reason = fmt.Sprintf("check %s: %s is above the max %s", ch.Name, num(value), num(*ch.Max))
	case ch.Min != nil && value < *ch.Min:
		r.Outcome = Fail
		r.Reason = fmt.Sprintf("check %s: %s is below the min %s", ch.Name, num(value), num(*ch.Min))
	default:
		r.Outcome = Pass
		r.Reason = fmt.Sprintf("check %s: %s within %s", ch.Name, num(value), bounds(ch.Min, ch.Max))
		return r
	}
	if r.Hold {
		r.Outcome = Inconclusive
		r.Reason = fmt.Sprintf("the SLO burn rate %s is above max_burn_rate %s: the step holds until it falls", num(value), num(*ch.Max))
	}
	return r
}

// Combine joins the built-in verdict (5xx rate, latency) and the checks' results. A failure
// of either fails; then no answer from Prometheus (Unreachable), then a burn-rate hold, then
// any other inconclusive result (no traffic, no data) keeps the step; else it passes.
func Combine(v Verdict, checks []CheckResult) Verdict {
	if len(checks) == 0 {
		return v
	}
	v.Checks = checks
	pick := func(pred func(CheckResult) bool) *CheckResult {
		for i := range checks {
			if pred(checks[i]) {
				return &checks[i]
			}
		}
		return nil
	}
	if v.Outcome == Fail {
		return v
	}
	if r := pick(func(r CheckResult) bool { return r.Outcome == Fail }); r != nil {
		v.Outcome, v.Reason = Fail, r.Reason
		return v
	}
	if r := pick(func(r CheckResult) bool { return r.Unreachable }); r != nil {
		v.Outcome, v.Unreachable, v.Reason = Inconclusive, true, r.Reason
		return v
	}
	if r := pick(func(r CheckResult) bool { return r.Hold && r.Outcome == Inconclusive && r.Value != nil }); r != nil {
		v.Outcome, v.Hold, v.Reason = Inconclusive, true, r.Reason
		return v
	}
	if v.Outcome == Inconclusive {
		return v
	}
	if r := pick(func(r CheckResult) bool { return r.Outcome == Inconclusive }); r != nil {
		v.Outcome, v.Reason = Inconclusive, r.Reason
		return v
	}
	names := make([]string, len(checks))
	for i, r := range checks {
		names[i] = r.Name
	}
	v.Reason = fmt.Sprintf("%s; checks passed: %s", v.Reason, strings.Join(names, ", "))
	return v
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

func bounds(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("[%s, %s]", num(*lo), num(*hi))
	case hi != nil:
		return "max " + num(*hi)
	case lo != nil:
		return "min " + num(*lo)
	}
	return "no threshold"
}

// Explain is one line per check: its outcome, its value against its thresholds, the query as
// run and, when there is no value, why.
func (v Verdict) Explain() []string {
	var out []string
	for _, r := range v.Checks {
		val, why := "none", " ("+r.Reason+")"
		if r.Value != nil {
			val, why = num(*r.Value), ""
		}
		out = append(out, fmt.Sprintf("check %s: %s, value %s, %s, query %s%s", r.Name, r.Outcome, val, bounds(r.Min, r.Max), r.Query, why))
	}
	return out
}
