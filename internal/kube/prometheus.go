package kube

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/rollout"
)

// Prometheus reads the request metrics of an app's releases for the canary analysis: the
// pyship_* series pyship's proxy sidecar exports in front of every pod (scraped through the
// ServiceMonitor, which adds the namespace), summed over the pods of a release.
type Prometheus struct {
	Client         *promql.Client
	Namespace, App string
}

// Metrics returns the release's cumulative requests (the app's responses and the sidecar's
// own 502/503/504), 5xx responses, refused requests and latency histogram.
func (p *Prometheus) Metrics(ctx context.Context, release string) (rollout.Metrics, error) {
	sel := fmt.Sprintf(`namespace=%q,app=%q,release=%q`, p.Namespace, p.App, release)
	var m rollout.Metrics
	var sums [5]float64
	for i, q := range []string{
		`sum(pyship_requests_total{%s})`, `sum(pyship_proxy_errors_total{%s})`,
		`sum(pyship_requests_total{%s,code=~"5.."})`, `sum(pyship_proxy_errors_total{%s,code=~"5.."})`,
		`sum(pyship_proxy_refused_total{%s})`,
	} {
		v, err := p.Client.Vector(ctx, fmt.Sprintf(q, sel))
		if err != nil {
			return m, fmt.Errorf("reading the request metrics of %s ([deploy.canary] prometheus_url): %w", release, err)
		}
		for _, s := range v {
			sums[i] += s.Value
		}
	}
	m.Requests, m.Errors, m.Refused = int64(sums[0]+sums[1]), int64(sums[2]+sums[3]), int64(sums[4])
	buckets, err := p.Client.Vector(ctx, fmt.Sprintf(`sum by (le) (pyship_request_duration_seconds_bucket{%s})`, sel))
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
