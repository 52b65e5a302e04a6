package monitor_test

import (
	"fmt"

	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/plan"
)

func ExampleRules() {
	f, err := monitor.Rules("shop", &plan.Monitor{Window: "30d", Availability: 99.9}, monitor.RuleOptions{AppDown: true})
	if err != nil {
		panic(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			fmt.Println(g.Name, r.Record+r.Alert, r.Labels)
		}
	}
	// Output:
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate5m map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate30m map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate1h map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate2h map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate6h map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate1d map[slo:availability]
	// pyship-slo-shop pyship_slo:sli_error:ratio_rate3d map[slo:availability]
	// pyship-slo-shop pyship_slo:objective:ratio map[app:shop slo:availability]
	// pyship-slo-shop pyship_slo:error_budget_remaining:ratio map[slo:availability]
	// pyship-alerts-shop PyshipSLOBurnFast map[app:shop severity:page slo:availability]
	// pyship-alerts-shop PyshipSLOBurnSlow map[app:shop severity:ticket slo:availability]
	// pyship-alerts-shop PyshipAppDown map[app:shop severity:page]
}
