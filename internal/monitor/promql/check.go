package promql

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Vars are the values of a check's placeholders: {{app}}, {{release}} (the canary),
// {{stable}} and {{namespace}} ("" on the local target, whose series have no namespace).
type Vars struct {
	App, Release, Stable, Namespace string
}

// Placeholders are the names a query may use, each written {{name}}.
var placeholders = []string{"app", "release", "stable", "namespace"}

// Resolve substitutes the placeholders of query. The values are label values pyship chose
// (DNS labels and release ids), so they need no escaping inside a PromQL string.
func Resolve(query string, v Vars) string {
	return strings.NewReplacer("{{app}}", v.App, "{{release}}", v.Release, "{{stable}}", v.Stable, "{{namespace}}", v.Namespace).Replace(query)
}

// sample are the values a query is parsed with at `pyship check` time: as long as the
// placeholders they replace, so that the parser's positions are those of the query as written.
var sample = Vars{App: "app____", Release: "release____", Stable: "stable____", Namespace: "namespace____"}

// Parse checks a query with Prometheus' own parser after substituting sample values for its
// placeholders. The error says what is wrong and where (line:column in the query as written),
// or names an unknown placeholder.
func Parse(query string) error {
	if strings.TrimSpace(query) == "" {
		return errors.New("the query is empty")
	}
	rest := query
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return fmt.Errorf("%q opens a placeholder that is never closed; use {{%s}}", rest[i:], strings.Join(placeholders, "}}, {{"))
		}
		name := rest[i+2 : i+j]
		if !slices.Contains(placeholders, name) {
			return fmt.Errorf("unknown placeholder {{%s}}; use {{%s}}", name, strings.Join(placeholders, "}}, {{"))
		}
		rest = rest[i+j+2:]
	}
	resolved := Resolve(query, sample)
	if _, err := parser.ParseExpr(resolved); err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			pe := perrs[0]
			pos := pe.PositionRange.StartPosInput(resolved, 0)
			return fmt.Errorf("PromQL parse error at %s: %v", pos, pe.Err)
		}
		return fmt.Errorf("PromQL parse error: %v", err)
	}
	return nil
}
