package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
)

func f(v float64) *float64 { return &v }

// The decision table of one check: its value against max and min, and each kind of query
// failure.
func TestJudgeCheck(t *testing.T) {
	errRate := Check{Name: "error-rate", Query: "q", Max: f(0.01)}
	for _, tc := range []struct {
		check   Check
		value   float64
		err     error
		outcome Outcome
		says    string
	}{
		{errRate, 0.005, nil, Pass, "check error-rate: 0.005 within max 0.01"},
		{errRate, 0.01, nil, Pass, "within max 0.01"},
		{errRate, 0.2, nil, Fail, "check error-rate: 0.2 is above the max 0.01"},
		{Check{Name: "rps", Min: f(1)}, 0.5, nil, Fail, "0.5 is below the min 1"},
		{Check{Name: "band", Min: f(1), Max: f(2)}, 1.5, nil, Pass, "within [1, 2]"},
		{errRate, 0, &promql.Error{Kind: promql.ErrUnreachable, URL: "http://p", Query: "q", Err: errors.New("connection refused")}, Inconclusive, "prometheus at http://p did not answer: connection refused"},
		{errRate, 0, &promql.Error{Kind: promql.ErrEmpty, URL: "http://p", Query: "q"}, Inconclusive, "no data yet"},
		{errRate, 0, &promql.Error{Kind: promql.ErrBadQuery, URL: "http://p", Query: "q", Err: errors.New("it gives 3 series")}, Fail, "it gives 3 series"},
		{Check{Name: BurnRateCheck, Max: f(2)}, 14.4, nil, Inconclusive, "the SLO burn rate 14.4 is above max_burn_rate 2"},
		{Check{Name: BurnRateCheck, Max: f(2)}, 1, nil, Pass, "within max 2"},
	} {
		r := JudgeCheck(tc.check, "resolved", tc.value, tc.err)
		if r.Outcome != tc.outcome || !strings.Contains(r.Reason, tc.says) || r.Query != "resolved" {
			t.Errorf("%s = %v (%v): %s %q, want %s saying %q", tc.check.Name, tc.value, tc.err, r.Outcome, r.Reason, tc.outcome, tc.says)
		}
		if (tc.err == nil) != (r.Value != nil) {
			t.Errorf("%s: value %v with error %v", tc.check.Name, r.Value, tc.err)
		}
	}
}

// Combine: a failure anywhere fails; no answer from Prometheus beats a hold, which beats
// any other inconclusive result; everything passing passes and names the checks.
func TestCombine(t *testing.T) {
	pass := Verdict{Outcome: Pass, Reason: "canary 5xx rate 0.0%"}
	noTraffic := Verdict{Outcome: Inconclusive, Reason: "not enough traffic"}
	ok := CheckResult{Name: "a", Outcome: Pass}
	bad := CheckResult{Name: "b", Outcome: Fail, Reason: "check b: 3 is above the max 1"}
	blind := CheckResult{Name: "c", Outcome: Inconclusive, Unreachable: true, Reason: "check c: prometheus did not answer"}
	burn := CheckResult{Name: BurnRateCheck, Outcome: Inconclusive, Hold: true, Value: f(20), Reason: "the SLO burn rate 20 is above"}
	empty := CheckResult{Name: "d", Outcome: Inconclusive, Reason: "check d: no data yet"}
	for _, tc := range []struct {
		name              string
		base              Verdict
		checks            []CheckResult
		outcome           Outcome
		unreachable, hold bool
		says              string
	}{
		{"all pass", pass, []CheckResult{ok}, Pass, false, false, "checks passed: a"},
		{"a check fails", pass, []CheckResult{ok, blind, bad}, Fail, false, false, "check b"},
		{"built-in failure first", Verdict{Outcome: Fail, Reason: "5xx"}, []CheckResult{bad}, Fail, false, false, "5xx"},
		{"unreachable", pass, []CheckResult{ok, burn, blind}, Inconclusive, true, false, "did not answer"},
		{"unreachable beats no traffic", noTraffic, []CheckResult{blind}, Inconclusive, true, false, "did not answer"},
		{"burn hold", noTraffic, []CheckResult{ok, burn}, Inconclusive, false, true, "burn rate"},
		{"no traffic", noTraffic, []CheckResult{ok, empty}, Inconclusive, false, false, "not enough traffic"},
		{"no data", pass, []CheckResult{ok, empty}, Inconclusive, false, false, "no data"},
		{"no checks", pass, nil, Pass, false, false, "canary 5xx rate"},
	} {
		v := Combine(tc.base, tc.checks)
		if v.Outcome != tc.outcome || v.Unreachable != tc.unreachable || v.Hold != tc.hold || !strings.Contains(v.Reason, tc.says) || len(v.Checks) != len(tc.checks) {
			t.Errorf("%s: %s unreachable=%v hold=%v %q; want %s %v %v %q", tc.name, v.Outcome, v.Unreachable, v.Hold, v.Reason, tc.outcome, tc.unreachable, tc.hold, tc.says)
		}
	}
}

// No answer from Prometheus is never promoted, whatever no_traffic says: it waits, then
// rolls back after no_traffic_after. A burn-rate hold holds.
func TestUnreachableIsNeverPromoted(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	blind := Verdict{Outcome: Inconclusive, Unreachable: true, Reason: "check c: prometheus at http://p did not answer"}
	burn := Verdict{Outcome: Inconclusive, Hold: true, Reason: "the SLO burn rate 20 is above max_burn_rate 2"}
	for _, tc := range []struct {
		v       Verdict
		policy  NoTrafficPolicy
		waited  time.Duration
		phase   Phase
		step    int
		held    bool
		message string
	}{
		{blind, NoTrafficPromote, time.Minute, Progressing, 0, false, "rolls back if Prometheus does not answer within 2m0s"},
		{blind, NoTrafficPromote, 2 * time.Minute, RollingBack, 0, false, "a canary nobody can measure is never promoted"},
		{blind, NoTrafficHold, 3 * time.Minute, RollingBack, 0, false, "did not answer, for 2m0s"},
		{burn, NoTrafficPromote, time.Minute, Progressing, 0, false, "canary paused: the SLO burn rate"},
		{burn, NoTrafficPromote, 2 * time.Minute, Progressing, 0, true, "canary holds at step 1: the SLO burn rate"},
		{burn, NoTrafficAbort, 2 * time.Minute, Progressing, 0, true, "`pyship promote` to go on"},
	} {
		spec := Spec{Release: "r2", Stable: "r1", Strategy: Canary, Replicas: 2,
			Canary: CanaryConfig{Steps: []int{10, 100}, Pause: 30 * time.Second, NoTraffic: tc.policy, NoTrafficAfter: 2 * time.Minute}}
		st := NewStatus(spec)
		st.StepStarted = start
		got := ApplyVerdict(st, tc.v, start.Add(tc.waited))
		if got.Phase != tc.phase || got.Step != tc.step || got.Held != tc.held || !strings.Contains(got.Message, tc.message) {
			t.Errorf("%q %q after %s: phase %s, step %d, held %v, message %q; want %s, %d, %v, %q",
				tc.v.Reason, tc.policy, tc.waited, got.Phase, got.Step, got.Held, got.Message, tc.phase, tc.step, tc.held, tc.message)
		}
	}
}

type querier map[string]float64

func (q querier) Value(_ context.Context, query string) (float64, error) {
	if v, ok := q[query]; ok {
		return v, nil
	}
	return 0, &promql.Error{Kind: promql.ErrEmpty, Query: query}
}

// RunChecks resolves the placeholders with the releases and adds the burn-rate check; with
// no Prometheus configured every check is unreachable, saying how to configure one.
func TestRunChecks(t *testing.T) {
	c := CanaryConfig{Checks: []Check{{Name: "errors", Query: `x{app="{{app}}",release="{{release}}",stable="{{stable}}",ns="{{namespace}}"}`, Max: f(1)}}, MaxBurnRate: 2, Objective: 0.999}
	vars := promql.Vars{App: "web", Release: "r2", Stable: "r1", Namespace: "shop"}
	burn := promql.Resolve(BurnRateQuery(0.999), vars)
	got := RunChecks(context.Background(), querier{`x{app="web",release="r2",stable="r1",ns="shop"}`: 0.5, burn: 3}, c, vars)
	if len(got) != 2 || got[0].Outcome != Pass || got[1].Name != BurnRateCheck || got[1].Outcome != Inconclusive || !got[1].Hold {
		t.Fatalf("results %+v", got)
	}
	if !strings.Contains(burn, `app="web",namespace="shop",code=~"5.."`) || !strings.HasSuffix(burn, "/ 0.001") {
		t.Errorf("burn-rate query %s", burn)
	}
	for _, r := range RunChecks(context.Background(), nil, c, vars) {
		if !r.Unreachable || !strings.Contains(r.Reason, "set [deploy.canary] prometheus_url") {
			t.Errorf("without Prometheus: %+v", r)
		}
	}
	lines := Verdict{Checks: got}.Explain()
	if len(lines) != 2 || lines[0] != `check errors: pass, value 0.5, max 1, query x{app="web",release="r2",stable="r1",ns="shop"}` ||
		!strings.HasPrefix(lines[1], "check slo-burn-rate: inconclusive, value 3, max 2, query (") {
		t.Errorf("explained %q", lines)
	}
	if lines := (Verdict{Checks: RunChecks(context.Background(), nil, c, vars)[:1]}).Explain(); len(lines) != 1 || !strings.Contains(lines[0], "value none, max 1, query x{") || !strings.Contains(lines[0], "(check errors: prometheus unreachable: no Prometheus to ask") {
		t.Errorf("explained without a value %q", lines)
	}
	if err := promql.Parse(BurnRateQuery(0.995)); err != nil {
		t.Errorf("the burn-rate query does not parse: %v", err)
	}
}
