package proxy

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// bounds are the latency histogram's bucket upper bounds.
var bounds = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// series are the counters of one release.
type series struct {
	byStatus [600]atomic.Int64
	buckets  []atomic.Int64 // not cumulative; one more than bounds for +Inf
	sum      atomic.Int64   // nanoseconds
}

type registry struct {
	mu  sync.RWMutex
	rel map[string]*series
}

func newRegistry() *registry { return &registry{rel: map[string]*series{}} }

func (g *registry) get(release string) *series {
	g.mu.RLock()
	s := g.rel[release]
	g.mu.RUnlock()
	if s != nil {
		return s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if s = g.rel[release]; s == nil {
		s = &series{buckets: make([]atomic.Int64, len(bounds)+1)}
		g.rel[release] = s
	}
	return s
}

func (g *registry) observe(release string, status int, d time.Duration) {
	s := g.get(release)
	if status < 100 || status >= 600 {
		status = 599
	}
	s.byStatus[status].Add(1)
	i := sort.Search(len(bounds), func(i int) bool { return d <= bounds[i] })
	s.buckets[i].Add(1)
	s.sum.Add(int64(d))
}

func (g *registry) snapshot(release string) rollout.Metrics {
	s := g.get(release)
	m := rollout.Metrics{Bounds: append([]time.Duration(nil), bounds...), Counts: make([]int64, len(bounds))}
	for code := range s.byStatus {
		n := s.byStatus[code].Load()
		m.Requests += n
		if code >= 500 {
			m.Errors += n
		}
	}
	var cum int64
	for i := range bounds {
		cum += s.buckets[i].Load()
		m.Counts[i] = cum
	}
	return m
}

// WriteMetrics writes the request metrics in the Prometheus text format, each series labelled
// with labels (e.g. `app="shop"`) plus the release.
func (p *Proxy) WriteMetrics(w io.Writer, labels string) error {
	g := p.metrics
	g.mu.RLock()
	names := make([]string, 0, len(g.rel))
	for n := range g.rel {
		names = append(names, n)
	}
	g.mu.RUnlock()
	sort.Strings(names)
	bw := bufio.NewWriter(w)
	if labels != "" {
		labels += ","
	}
	fmt.Fprintln(bw, "# HELP pyship_requests_total Requests served by pyship's proxy, by release and status code.")
	fmt.Fprintln(bw, "# TYPE pyship_requests_total counter")
	for _, n := range names {
		s := g.get(n)
		for code := range s.byStatus {
			if v := s.byStatus[code].Load(); v > 0 {
				fmt.Fprintf(bw, "pyship_requests_total{%srelease=%q,code=\"%d\"} %d\n", labels, n, code, v)
			}
		}
	}
	fmt.Fprintln(bw, "# HELP pyship_request_duration_seconds Time from request to the end of the response, by release.")
	fmt.Fprintln(bw, "# TYPE pyship_request_duration_seconds histogram")
	for _, n := range names {
		s := g.get(n)
		var cum int64
		for i, b := range bounds {
			cum += s.buckets[i].Load()
			fmt.Fprintf(bw, "pyship_request_duration_seconds_bucket{%srelease=%q,le=%q} %d\n", labels, n, strconv.FormatFloat(b.Seconds(), 'g', -1, 64), cum)
		}
		cum += s.buckets[len(bounds)].Load()
		fmt.Fprintf(bw, "pyship_request_duration_seconds_bucket{%srelease=%q,le=\"+Inf\"} %d\n", labels, n, cum)
		fmt.Fprintf(bw, "pyship_request_duration_seconds_sum{%srelease=%q} %g\n", labels, n, time.Duration(s.sum.Load()).Seconds())
		fmt.Fprintf(bw, "pyship_request_duration_seconds_count{%srelease=%q} %d\n", labels, n, cum)
	}
	return bw.Flush()
}
