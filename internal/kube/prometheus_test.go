package kube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// promAPI answers instant queries as Prometheus' HTTP API does, from a table of query → vector.
func promAPI(t *testing.T, vectors map[string][]map[string]any) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query().Get("query")
		v, ok := vectors[q]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": "unexpected query " + q})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": v}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func value(v string, labels map[string]string) map[string]any {
	return map[string]any{"metric": labels, "value": []any{1.7e9, v}}
}

func TestPrometheusMetricsOfARelease(t *testing.T) {
	sel := `namespace="shop",pod=~"web-r1a2b-.*"`
	srv := promAPI(t, map[string][]map[string]any{
		`sum(http_requests_total{` + sel + `})`:                         {value("1200", nil)},
		`sum(http_requests_total{` + sel + `,status=~"5[0-9x][0-9x]"})`: {value("12", nil)},
		`sum by (le) (http_request_duration_seconds_bucket{` + sel + `})`: {
			value("1200", map[string]string{"le": "+Inf"}), value("1100", map[string]string{"le": "0.1"}),
			value("600", map[string]string{"le": "0.005"}), value("1190", map[string]string{"le": "1"}),
		},
	})
	p := &Prometheus{URL: srv.URL + "/", Namespace: "shop", App: "web"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.Metrics(ctx, "r1a2b")
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 1200 || m.Errors != 12 {
		t.Errorf("requests %d errors %d, want 1200 and 12", m.Requests, m.Errors)
	}
	if len(m.Bounds) != 3 || m.Bounds[0] != 5*time.Millisecond || m.Counts[1] != 1100 {
		t.Errorf("histogram %v %v, want 5ms, 100ms, 1s buckets in order without +Inf", m.Bounds, m.Counts)
	}
	if q := m.Quantile(0.95); q != time.Second {
		t.Errorf("p95 = %s, want 1s", q)
	}

	// A query the server refuses, and a URL that is not Prometheus, are errors naming them.
	if _, err := p.Metrics(ctx, "other"); err == nil || !strings.Contains(err.Error(), "it refused") || !strings.Contains(err.Error(), "unexpected query") {
		t.Errorf("a query the server refuses: %v, want its error", err)
	}
	bad := &Prometheus{URL: srv.URL + "/nothing-here", Namespace: "shop", App: "web"}
	if _, err := bad.Metrics(ctx, "r1a2b"); err == nil || !strings.Contains(err.Error(), "not the Prometheus API") {
		t.Errorf("a URL that is not Prometheus: %v", err)
	}
}

// TestPrometheusReadsTheSidecarsSeries: with the proxy sidecar, the canary analysis reads the
// pyship_* series by namespace, app and release: the app's responses and the sidecar's own
// errors are requests, their 5xx errors.
func TestPrometheusReadsTheSidecarsSeries(t *testing.T) {
	sel := `namespace="shop",app="web",release="r1a2b"`
	reqs := `{__name__=~"pyship_requests_total|pyship_proxy_errors_total",` + sel
	srv := promAPI(t, map[string][]map[string]any{
		`sum(` + reqs + `})`:                       {value("500", nil)},
		`sum(` + reqs + `,code=~"5[0-9x][0-9x]"})`: {value("25", nil)},
		`sum by (le) (pyship_request_duration_seconds_bucket{` + sel + `})`: {
			value("500", map[string]string{"le": "+Inf"}), value("480", map[string]string{"le": "0.25"}),
		},
	})
	p := &Prometheus{URL: srv.URL, Namespace: "shop", App: "web", Sidecar: true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.Metrics(ctx, "r1a2b")
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 500 || m.Errors != 25 || len(m.Counts) != 1 || m.Counts[0] != 480 {
		t.Errorf("metrics %+v, want 500 requests, 25 errors, 480 under 250ms", m)
	}
}
