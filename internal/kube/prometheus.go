package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Prometheus reads the request metrics of an app's releases for the canary analysis, summed
// over the pods of a release: with the proxy sidecar, the pyship_* series it exports with app
// and release labels (any app); without it, the request counter and latency histogram the
// app exports itself on /metrics (scraped through the ServiceMonitor, which labels each series
// with its pod).
type Prometheus struct {
	// URL is the Prometheus server, e.g. http://prometheus.monitoring:9090.
	URL            string
	Namespace, App string
	// Sidecar reads the proxy sidecar's series (Bundle.Sidecar); Requests and Duration are
	// then not used.
	Sidecar bool
	// Requests is a counter of requests with a status label ("200", "503" or "5xx"), Duration
	// a histogram in seconds; defaults http_requests_total and http_request_duration_seconds
	// (prometheus-fastapi-instrumentator, prometheus_client's conventions).
	Requests, Duration string
	// Client is the HTTP client (http.DefaultClient when nil).
	Client *http.Client
}

// Metrics returns the release's cumulative requests, 5xx responses and latency histogram.
func (p *Prometheus) Metrics(ctx context.Context, release string) (rollout.Metrics, error) {
	reqs, dur := p.Requests, p.Duration
	if reqs == "" {
		reqs = "http_requests_total"
	}
	if dur == "" {
		dur = "http_request_duration_seconds"
	}
	sel := fmt.Sprintf(`namespace=%q,pod=~%q`, p.Namespace, regexp.QuoteMeta(p.App+"-"+release)+"-.*")
	status := "status"
	if p.Sidecar {
		// The app's responses and the errors the sidecar made (502, 504) are the release's
		// requests; what it refused (pyship_proxy_refused_total) is not the release's fault.
		reqs = `{__name__=~"pyship_requests_total|pyship_proxy_errors_total"}`
		dur, status = "pyship_request_duration_seconds", "code"
		sel = fmt.Sprintf(`namespace=%q,app=%q,release=%q`, p.Namespace, p.App, release)
	}
	var m rollout.Metrics
	total, err := p.query(ctx, fmt.Sprintf(`sum(%s)`, selector(reqs, sel)))
	if err != nil {
		return m, err
	}
	errs, err := p.query(ctx, fmt.Sprintf(`sum(%s)`, selector(reqs, sel+`,`+status+`=~"5[0-9x][0-9x]"`)))
	if err != nil {
		return m, err
	}
	buckets, err := p.query(ctx, fmt.Sprintf(`sum by (le) (%s)`, selector(dur+"_bucket", sel)))
	if err != nil {
		return m, err
	}
	m.Requests, m.Errors = int64(sum(total)), int64(sum(errs))
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	for _, b := range buckets {
		if math.IsInf(b.le, 1) {
			continue
		}
		m.Bounds = append(m.Bounds, time.Duration(b.le*float64(time.Second)))
		m.Counts = append(m.Counts, int64(b.value))
	}
	return m, nil
}

// selector adds the label matchers sel to the series name, or to a selector's braces.
func selector(series, sel string) string {
	if strings.HasSuffix(series, "}") {
		return strings.TrimSuffix(series, "}") + "," + sel + "}"
	}
	return series + "{" + sel + "}"
}

// sample is one element of an instant vector: its le label (for buckets) and value.
type sample struct {
	le    float64
	value float64
}

func sum(v []sample) float64 {
	t := 0.0
	for _, s := range v {
		t += s.value
	}
	return t
}

// query runs an instant query and returns its vector.
func (p *Prometheus) query(ctx context.Context, q string) ([]sample, error) {
	u := strings.TrimSuffix(p.URL, "/") + "/api/v1/query?" + url.Values{"query": {q}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s ([deploy.canary] prometheus_url): %w", p.URL, err)
	}
	hc := p.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s ([deploy.canary] prometheus_url): %w", p.URL, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s: HTTP %d, not the Prometheus API (is prometheus_url the server's base URL?): %w", p.URL, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("querying Prometheus at %s: it refused %s: %s", p.URL, q, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("querying Prometheus at %s: %s gave a %s, want a vector", p.URL, q, body.Data.ResultType)
	}
	out := make([]sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s := sample{}
		str, _ := r.Value[1].(string)
		if s.value, err = strconv.ParseFloat(str, 64); err != nil {
			return nil, fmt.Errorf("querying Prometheus at %s: %s gave the value %q: %w", p.URL, q, str, err)
		}
		if le, ok := r.Metric["le"]; ok {
			if s.le, err = strconv.ParseFloat(le, 64); err != nil {
				return nil, fmt.Errorf("querying Prometheus at %s: %s gave a bucket le=%q: %w", p.URL, q, le, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}
