package kube

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/rollout"
)

// Prometheus reads the request metrics of an app's releases for the canary analysis, summed
// over the pods of a release: with the proxy sidecar, the pyship_* series it exports in front
// of every pod with app and release labels (any app, no code; the ServiceMonitor adds the
// namespace); without it, the request counter and latency histogram the app exports itself on
// /metrics (http_requests_total with a status label, http_request_duration_seconds: the
// conventions of prometheus_client and prometheus-fastapi-instrumentator), by pod name.
type Prometheus struct {
	Client         *promql.Client
	Namespace, App string
	// Sidecar reads the proxy sidecar's series (Bundle.Sidecar).
	Sidecar bool
}

// Metrics returns the release's cumulative requests (with the sidecar, the app's responses
// and the sidecar's own 502/503/504), 5xx responses, refused requests and latency histogram.
func (p *Prometheus) Metrics(ctx context.Context, release string) (rollout.Metrics, error) {
	// The sums of requests, errors and refused requests: each the total of its queries.
	var sel, duration string
	var requests, errs, refused []string
	if p.Sidecar {
		sel = fmt.Sprintf(`namespace=%q,app=%q,release=%q`, p.Namespace, p.App, release)
		requests = []string{`sum(pyship_requests_total{%s})`, `sum(pyship_proxy_errors_total{%s})`}
		errs = []string{`sum(pyship_requests_total{%s,code=~"5.."})`, `sum(pyship_proxy_errors_total{%s,code=~"5.."})`}
		refused = []string{`sum(pyship_proxy_refused_total{%s})`}
		duration = "pyship_request_duration_seconds_bucket"
	} else {
		sel = fmt.Sprintf(`namespace=%q,pod=~%q`, p.Namespace, regexp.QuoteMeta(p.App+"-"+release)+"-.*")
		requests = []string{`sum(http_requests_total{%s})`}
		errs = []string{`sum(http_requests_total{%s,status=~"5[0-9x][0-9x]"})`}
		duration = "http_request_duration_seconds_bucket"
	}
	var m rollout.Metrics
	var sums [3]float64
	for i, qs := range [][]string{requests, errs, refused} {
		for _, q := range qs {
			v, err := p.Client.Vector(ctx, fmt.Sprintf(q, sel))
			if err != nil {
				return m, fmt.Errorf("reading the request metrics of %s ([deploy.canary] prometheus_url): %w", release, err)
			}
			for _, s := range v {
				sums[i] += s.Value
			}
		}
	}
	m.Requests, m.Errors, m.Refused = int64(sums[0]), int64(sums[1]), int64(sums[2])
	buckets, err := p.Client.Vector(ctx, fmt.Sprintf(`sum by (le) (%s{%s})`, duration, sel))
	if err != nil {
		return m, fmt.Errorf("reading the latency of %s ([deploy.canary] prometheus_url): %w", release, err)
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, s := range buckets {
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			return m, fmt.Errorf("reading the latency of %s: a bucket with le=%q", release, s.Labels["le"])
		}
		if !math.IsInf(le, 1) {
			bs = append(bs, bucket{le, s.Value})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	for _, b := range bs {
		m.Bounds = append(m.Bounds, time.Duration(b.le*float64(time.Second)))
		m.Counts = append(m.Counts, int64(b.n))
	}
	return m, nil
}
