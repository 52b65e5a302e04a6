package kube

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/testsvc"
)

// The pyship_* series of two pods of release r1a2b and one of another release, as pyship's
// proxy sidecar exports them, with the namespace label the ServiceMonitor's scrape adds.
const sidecarSeries = `# TYPE pyship_requests_total counter
pyship_requests_total{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",code="200"} 700
pyship_requests_total{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",code="200"} 478
pyship_requests_total{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",code="500"} 10
pyship_requests_total{namespace="%[1]s",pod="web-r0-z",app="web",release="r0",code="500"} 99
# TYPE pyship_proxy_errors_total counter
pyship_proxy_errors_total{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",code="502"} 2
# TYPE pyship_proxy_refused_total counter
pyship_proxy_refused_total{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",code="499"} 5
# TYPE pyship_request_duration_seconds histogram
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",le="0.005"} 300
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",le="0.1"} 650
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",le="1"} 702
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b",le="+Inf"} 702
pyship_request_duration_seconds_sum{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b"} 20
pyship_request_duration_seconds_count{namespace="%[1]s",pod="web-r1a2b-x",app="web",release="r1a2b"} 702
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",le="0.005"} 300
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",le="0.1"} 450
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",le="1"} 488
pyship_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b",le="+Inf"} 488
pyship_request_duration_seconds_sum{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b"} 20
pyship_request_duration_seconds_count{namespace="%[1]s",pod="web-r1a2b-y",app="web",release="r1a2b"} 488
`

// TestPrometheusMetricsOfARelease has the shared real Prometheus scrape the sidecar's series
// and reads a release's metrics back, summed over its pods.
func TestPrometheusMetricsOfARelease(t *testing.T) {
	ns := fmt.Sprintf("shop%d", rand.IntN(1e9)) // series of earlier runs stay in the shared Prometheus
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, sidecarSeries, ns)
	}))
	defer srv.Close()
	url, _ := testsvc.Scrape(t, strings.TrimPrefix(srv.URL, "http://"))
	pc, err := promql.New(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{Client: pc, Namespace: ns, App: "web", Sidecar: true}
	ctx := context.Background()
	testsvc.Eventually(t, 30*time.Second, "the shared Prometheus to scrape the sidecar's series", func() error {
		m, err := p.Metrics(ctx, "r1a2b")
		if err != nil {
			return err
		}
		if m.Requests != 1190 || m.Errors != 12 || m.Refused != 5 {
			return fmt.Errorf("requests %d errors %d refused %d, want 1190, 12 (10 5xx + 2 from the sidecar) and 5", m.Requests, m.Errors, m.Refused)
		}
		if len(m.Bounds) != 3 || m.Bounds[0] != 5*time.Millisecond || m.Counts[1] != 1100 {
			return fmt.Errorf("histogram %v %v, want 5ms, 100ms, 1s buckets in order without +Inf, 1100 under 100ms", m.Bounds, m.Counts)
		}
		if q := m.Quantile(0.95); q != time.Second {
			return fmt.Errorf("p95 = %s, want 1s", q)
		}
		return nil
	})
	// A release with no series has none of anything.
	if m, err := p.Metrics(ctx, "r9"); err != nil || m.Requests != 0 || len(m.Bounds) != 0 {
		t.Errorf("a release without series: %+v %v", m, err)
	}
	// A URL that is not Prometheus is unreachable, naming the spec key.
	notProm := httptest.NewServer(http.NotFoundHandler())
	defer notProm.Close()
	bad, _ := promql.New(notProm.URL, nil)
	_, err = (&Prometheus{Client: bad, Namespace: ns, App: "web", Sidecar: true}).Metrics(ctx, "r1a2b")
	if !errors.Is(err, promql.ErrUnreachable) || !strings.Contains(err.Error(), "not the Prometheus API") || !strings.Contains(err.Error(), "prometheus_url") {
		t.Errorf("a URL that is not Prometheus: %v", err)
	}
}

// The app's own series, as prometheus_client exports them, with the pod label the
// ServiceMonitor's scrape adds (proxy_sidecar = false).
const appSeries = `# TYPE http_requests_total counter
http_requests_total{namespace="%[1]s",pod="web-r1a2b-x",status="200"} 90
http_requests_total{namespace="%[1]s",pod="web-r1a2b-y",status="503"} 10
http_requests_total{namespace="%[1]s",pod="web-r0-z",status="500"} 99
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",le="0.1"} 80
http_request_duration_seconds_bucket{namespace="%[1]s",pod="web-r1a2b-x",le="+Inf"} 100
http_request_duration_seconds_sum{namespace="%[1]s",pod="web-r1a2b-x"} 5
http_request_duration_seconds_count{namespace="%[1]s",pod="web-r1a2b-x"} 100
`

// TestPrometheusMetricsFromTheAppsOwnSeries: without the sidecar, a release's metrics are the
// app's http_requests_total (status label) and latency histogram summed over the release's
// pods, by pod name, read from the real Prometheus.
func TestPrometheusMetricsFromTheAppsOwnSeries(t *testing.T) {
	ns := fmt.Sprintf("own%d", rand.IntN(1e9))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, appSeries, ns)
	}))
	defer srv.Close()
	url, _ := testsvc.Scrape(t, strings.TrimPrefix(srv.URL, "http://"))
	pc, err := promql.New(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{Client: pc, Namespace: ns, App: "web"}
	testsvc.Eventually(t, 30*time.Second, "the shared Prometheus to scrape the app's series", func() error {
		m, err := p.Metrics(context.Background(), "r1a2b")
		if err != nil {
			return err
		}
		if m.Requests != 100 || m.Errors != 10 || len(m.Bounds) != 1 || m.Counts[0] != 80 {
			return fmt.Errorf("metrics %+v, want 100 requests, 10 errors (r0's pod not counted), 80 under 100ms", m)
		}
		return nil
	})
}
