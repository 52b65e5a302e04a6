package promql_test

import (
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/monitor/promql"
)

func TestParse(t *testing.T) {
	for _, q := range []string{
		`sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}",code=~"5.."}[1m])) / sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}"}[1m]))`,
		`histogram_quantile(0.99, sum by (le) (rate(pyship_request_duration_seconds_bucket{namespace="{{namespace}}",release="{{stable}}"}[5m])))`,
		`1`,
	} {
		if err := promql.Parse(q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	for _, tc := range []struct{ query, says string }{
		{`sum(rate(x[1m])`, "PromQL parse error at 1:"},
		{`rate(x{app="{{app}}"}[1x])`, "bad number or duration"},
		{`x{app="{{application}}"}`, "unknown placeholder {{application}}"},
		{`x{app="{{app"}`, "never closed"},
		{`x{app="{{ app }}"}`, "unknown placeholder {{ app }}"},
		{"  ", "empty"},
		{`x +`, "unexpected end of input"},
	} {
		err := promql.Parse(tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error saying %q", tc.query, err, tc.says)
		}
	}
	if got := promql.Resolve(`x{app="{{app}}",r="{{release}}",s="{{stable}}",ns="{{namespace}}"}`, promql.Vars{App: "web", Release: "r2", Stable: "r1"}); got != `x{app="web",r="r2",s="r1",ns=""}` {
		t.Errorf("resolved %s", got)
	}
}

// The parser's positions are those of the query as written, placeholders included.
func TestParsePositions(t *testing.T) {
	err := promql.Parse(`sum(rate(x{release="{{release}}"}[1m])`)
	if err == nil || err.Error() != "PromQL parse error at 1:39: unclosed left parenthesis" {
		t.Errorf("got %v", err)
	}
	err = promql.Parse("sum(\n  x{app=\"{{app}}\"} +)")
	if err == nil || !strings.Contains(err.Error(), "at 2:") {
		t.Errorf("a multi-line query: %v", err)
	}
}
