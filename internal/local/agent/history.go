package agent

import (
	"sync"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// historyPoints is how many points each series of the status page keeps: an hour at the
// default step.
const historyPoints = 720

// defaultHistoryStep is how often the agent samples the proxy's counters for the status page.
const defaultHistoryStep = 5 * time.Second

// allReleases names the series of an app's whole traffic, every release summed.
const allReleases = "*"

// point is one step of a series: the traffic between the previous sample and At.
type point struct {
	At        time.Time
	Rate      float64 // requests per second
	ErrorRate float64 // share of 5xx answers, 0 when there was no request
	P50       float64 // seconds
	P95       float64
	P99       float64
}

// ring is a fixed-size series: once full, each new point replaces the oldest.
type ring struct {
	buf   []point
	start int // index of the oldest point
	n     int
}

func newRing(size int) *ring { return &ring{buf: make([]point, size)} }

func (r *ring) push(p point) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = p
		r.n++
		return
	}
	r.buf[r.start] = p
	r.start = (r.start + 1) % len(r.buf)
}

// points returns the series, oldest first.
func (r *ring) points() []point {
	out := make([]point, r.n)
	for i := range r.n {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}

// history is an app's recent traffic for the status page: one bounded ring per release (and
// one for the app's whole traffic) of points computed from the proxy's cumulative counters.
// Its memory is bounded by size and the releases the app keeps: a release that is gone is
// dropped at the next sample.
type history struct {
	mu     sync.Mutex
	size   int
	step   time.Duration
	last   time.Time
	prev   map[string]rollout.Metrics
	series map[string]*ring
}

func newHistory(size int, step time.Duration) *history {
	return &history{size: size, step: step, series: map[string]*ring{}}
}

// due tells whether a sample taken at now would be one step after the last.
func (h *history) due(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last.IsZero() || now.Sub(h.last) >= h.step
}

// add records the cumulative counters cum of each release at now. The first sample (and a
// release's first) only sets the baseline; a counter that went down (its proxy restarted)
// sets it again.
func (h *history) add(now time.Time, cum map[string]rollout.Metrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	elapsed := now.Sub(h.last)
	first := h.last.IsZero()
	h.last = now
	var total rollout.Metrics
	seen := false
	for rel, m := range cum {
		old, ok := h.prev[rel]
		if first || !ok || m.Requests < old.Requests {
			continue
		}
		d := m.Sub(old)
		h.push(rel, now, elapsed, d)
		total = sum(total, d)
		seen = true
	}
	if seen {
		h.push(allReleases, now, elapsed, total)
	}
	for rel := range h.series {
		if _, ok := cum[rel]; !ok && rel != allReleases {
			delete(h.series, rel)
		}
	}
	h.prev = cum
}

func (h *history) push(rel string, now time.Time, elapsed time.Duration, d rollout.Metrics) {
	r := h.series[rel]
	if r == nil {
		r = newRing(h.size)
		h.series[rel] = r
	}
	p := point{At: now}
	if elapsed > 0 {
		p.Rate = float64(d.Requests) / elapsed.Seconds()
	}
	if d.Requests > 0 {
		p.ErrorRate = float64(d.Errors) / float64(d.Requests)
		p.P50, p.P95, p.P99 = d.Quantile(0.5).Seconds(), d.Quantile(0.95).Seconds(), d.Quantile(0.99).Seconds()
	}
	r.push(p)
}

// snapshot returns every series, oldest point first.
func (h *history) snapshot() map[string][]point {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string][]point, len(h.series))
	for rel, r := range h.series {
		out[rel] = r.points()
	}
	return out
}

// sum adds two windows of counters with the same histogram bounds (the proxy's).
func sum(a, b rollout.Metrics) rollout.Metrics {
	out := rollout.Metrics{Requests: a.Requests + b.Requests, Errors: a.Errors + b.Errors, Refused: a.Refused + b.Refused, Bounds: b.Bounds}
	out.Counts = make([]int64, len(b.Counts))
	for i := range b.Counts {
		out.Counts[i] = b.Counts[i]
		if i < len(a.Counts) {
			out.Counts[i] += a.Counts[i]
		}
	}
	return out
}
