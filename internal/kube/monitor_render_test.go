package kube

import (
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/plan"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderPrometheusRuleCarriesTheSLOs: [monitor] objectives put pyship's SLO recording
// rules and burn-rate alerts, over the app's series in its namespace, into the PrometheusRule
// beside the availability alert, and turn the monitoring objects on by themselves.
func TestRenderPrometheusRuleCarriesTheSLOs(t *testing.T) {
	p := webPlan("shop", "rolling")
	p.Monitor = &plan.Monitor{Window: "28d", Availability: 99.9, Latency: "300ms", LatencyPercentile: 95}
	b, err := Render(p, Options{Namespace: "prod", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	var rule, sm *unstructured.Unstructured
	for _, o := range b.Objects {
		switch o.GetKind() {
		case "PrometheusRule":
			rule = o
		case "ServiceMonitor":
			sm = o
		}
	}
	if rule == nil || sm == nil {
		t.Fatalf("no PrometheusRule (%v) or ServiceMonitor (%v) with [monitor] set", rule != nil, sm != nil)
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	var names []string
	var exprs strings.Builder
	alerts := map[string]int{}
	for _, g := range groups {
		gm := g.(map[string]any)
		names = append(names, gm["name"].(string))
		for _, r := range gm["rules"].([]any) {
			rm := r.(map[string]any)
			exprs.WriteString(rm["expr"].(string))
			if a, ok := rm["alert"].(string); ok {
				alerts[a]++
			}
		}
	}
	if got := strings.Join(names, ","); got != "pyship-slo-shop,pyship-alerts-shop,shop" {
		t.Errorf("groups %s, want the SLO records, the SLO alerts, then the app's own", got)
	}
	if alerts[monitor.AlertBurnFast] != 2 || alerts[monitor.AlertBurnSlow] != 2 || alerts[monitor.AlertAppDown] != 1 {
		t.Errorf("alerts %v, want a fast and a slow burn alert per objective and one %s", alerts, monitor.AlertAppDown)
	}
	if !strings.Contains(exprs.String(), `sum by (app, namespace) (rate(pyship_request_duration_seconds_count{app="shop",namespace="prod"}`) {
		t.Errorf("the SLO rules do not select the app's series in its namespace:\n%s", exprs.String())
	}
	if !strings.Contains(exprs.String(), `pyship_slo:sli_error:ratio_rate1h{app="shop",namespace="prod",slo="availability"}`) {
		t.Errorf("the burn-rate alerts do not select the app's SLO series in its namespace:\n%s", exprs.String())
	}
	if strings.Contains(exprs.String(), "pyship_replica_ready") {
		t.Error("the local target's replica alert is in the PrometheusRule")
	}
}
