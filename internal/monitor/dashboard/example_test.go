package dashboard_test

import (
	"encoding/json"
	"fmt"

	"github.com/pyship/pyship/internal/monitor/dashboard"
)

func ExampleUID() {
	fmt.Println(dashboard.UID("shop"))
	// Output: pyship-shop-8d9001d3
}

func ExampleJSON() {
	b, err := dashboard.JSON(dashboard.Options{App: "shop", Availability: true})
	if err != nil {
		panic(err)
	}
	var d struct {
		Title  string
		Panels []struct{ Title string }
	}
	if err := json.Unmarshal(b, &d); err != nil {
		panic(err)
	}
	fmt.Println(d.Title)
	for _, p := range d.Panels {
		fmt.Println("-", p.Title)
	}
	// Output:
	// pyship / shop
	// - Requests per second
	// - 5xx error rate
	// - Latency p50 / p95 / p99
	// - Traffic weights
	// - Ready replicas
	// - Running releases
	// - SLO error budget remaining
	// - SLO burn rate
}
