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
var bounds = rollout.LatencyBounds()

// series are the counters of one release, by outcome (outApp, outProxy, outRefused) and
// status. The latency histogram holds what the canary analysis counts: the app's responses
// and the proxy's errors, not refused requests (a client sending slowly is no slow release).
type series struct {
	byStatus [3][600]atomic.Int64
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

func (g *registry) observe(release string, outcome, status int, d time.Duration) {
	s := g.get(release)
	if status < 100 || status >= 600 {
		status = 599
	}
	s.byStatus[outcome][status].Add(1)
	if outcome == outRefused {
		return
	}
	i := sort.Search(len(bounds), func(i int) bool { return d <= bounds[i] })
	s.buckets[i].Add(1)
	s.sum.Add(int64(d))
}

func (g *registry) snapshot(release string) rollout.Metrics {
	s := g.get(release)
	m := rollout.Metrics{Bounds: append([]time.Duration(nil), bounds...), Counts: make([]int64, len(bounds))}
	for out := range s.byStatus {
		for code := range s.byStatus[out] {
			n := s.byStatus[out][code].Load()
			switch {
			case out == outRefused:
				m.Refused += n
			case code >= 500:
				m.Errors += n
				fallthrough
			default:
				m.Requests += n
			}
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
	for out, m := range []struct{ name, help string }{
		{"pyship_requests_total", "Responses of the app passed on by pyship's proxy, by release and status code."},
		{"pyship_proxy_errors_total", "Requests the proxy could not get an answer for (502 unreachable or invalid, 503 no replica, 504 timeout), by release and status code."},
		{"pyship_proxy_refused_total", "Requests the proxy refused or the client abandoned (4xx it answered itself; 499 client gone), by release and status code; never the release's fault."},
	} {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s counter\n", m.name, m.help, m.name)
		for _, n := range names {
			s := g.get(n)
			for code := range s.byStatus[out] {
				if v := s.byStatus[out][code].Load(); v > 0 {
					fmt.Fprintf(bw, "%s{%srelease=%q,code=\"%d\"} %d\n", m.name, labels, n, code, v)
				}
			}
		}
	}
	fmt.Fprintln(bw, "# HELP pyship_request_duration_seconds Time from request to the end of the response of the app's responses and the proxy's errors, by release.")
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
