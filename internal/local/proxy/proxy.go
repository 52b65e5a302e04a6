package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http/httputil"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Options configure a Proxy.
type Options struct {
	// RequestTimeout bounds the wait for a backend's response headers (default 60s).
	RequestTimeout time.Duration
	// DrainTimeout bounds how long RemoveBackend waits for in-flight requests (default 30s).
	DrainTimeout time.Duration
	// ClientTimeout bounds each read of a request body and each write of a response to the
	// client (default 30s): a client that stops sending or reading releases its backend,
	// while a long upload or download that keeps moving is not cut short.
	ClientTimeout time.Duration
	// StickyCookie, when set, names a cookie that pins a client to the release it first got.
	StickyCookie string
	// Access is who may use the app: host names, client networks, basic auth, rate limit.
	Access Access
	Log    *slog.Logger

	gate *gate // Access, ready to apply
}

// Proxy routes requests to the ready backends of releases in proportion to their weights.
// Routing changes are atomic: a request sees either the whole old table or the whole new one.
type Proxy struct {
	opts      atomic.Pointer[Options] // replaced whole by Reconfigure
	transport *fastTransport
	rp        *httputil.ReverseProxy
	metrics   *registry

	mu       sync.Mutex // serialises changes; readers use table
	backends map[string]*backend
	weights  map[string]int
	table    atomic.Pointer[table]
}

type backend struct {
	id, release, addr string
	inflight          atomic.Int64
}

type route struct {
	release  string
	weight   int
	backends []*backend
	next     *atomic.Uint64
}

type table struct {
	routes []route // releases with at least one backend, sorted by name
	total  int     // sum of the weights of routes
}

func (o Options) withDefaults() Options {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.ClientTimeout <= 0 {
		o.ClientTimeout = 30 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// New returns a proxy with no backends. Invalid access rules in opts let nobody in until a
// Reconfigure with valid ones.
func New(opts Options) *Proxy {
	opts = opts.withDefaults()
	fast := &fastTransport{dialer: &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}, maxIdle: 256}
	p := &Proxy{transport: fast, metrics: newRegistry(), backends: map[string]*backend{}, weights: map[string]int{}}
	p.rp = p.newReverseProxy(opts.Log)
	if err := p.Reconfigure(opts); err != nil {
		opts.Log.Error("starting the proxy", "err", err)
	}
	p.table.Store(&table{})
	return p
}

// Reconfigure replaces the proxy's options (a new release may change its timeouts,
// stickiness or access rules); requests already running keep the options they started with.
// Invalid access rules close the app (403 to everyone) rather than open it, and are reported.
func (p *Proxy) Reconfigure(opts Options) error {
	opts = opts.withDefaults()
	g, err := newGate(opts.Access)
	if err != nil {
		g = &gate{closed: true}
		err = fmt.Errorf("configuring the proxy's access rules (nobody is let in until they are fixed): %w", err)
	}
	opts.gate = g
	p.transport.timeout.Store(int64(opts.RequestTimeout))
	p.opts.Store(&opts)
	return err
}

// AddBackend starts routing release's traffic to addr (host:port) under the replica id.
func (p *Proxy) AddBackend(id, release, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.backends[id]; ok && b.addr == addr && b.release == release {
		return
	}
	p.backends[id] = &backend{id: id, release: release, addr: addr}
	p.rebuild()
}

// RemoveBackend stops routing to the replica id and waits until its in-flight requests finish,
// at most the drain timeout or until ctx ends. It reports how many requests were still running.
func (p *Proxy) RemoveBackend(ctx context.Context, id string) int64 {
	p.mu.Lock()
	b, ok := p.backends[id]
	if ok {
		delete(p.backends, id)
		p.rebuild()
	}
	p.mu.Unlock()
	if !ok {
		return 0
	}
	defer p.transport.closeIdle(b.addr)
	deadline := time.NewTimer(p.opts.Load().DrainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for b.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return b.inflight.Load()
		case <-deadline.C:
			return b.inflight.Load()
		case <-tick.C:
		}
	}
	return 0
}

// CheckWeights tells whether w is a valid set of traffic percentages: each 0-100, adding up
// to 100 (or nothing at all).
func CheckWeights(w map[string]int) error {
	sum := 0
	for r, v := range w {
		if v < 0 || v > 100 {
			return fmt.Errorf("weight %d of release %s is outside 0-100", v, r)
		}
		sum += v
	}
	if sum != 100 && sum != 0 {
		return fmt.Errorf("weights %v add up to %d, not 100", w, sum)
	}
	return nil
}

// SetWeights atomically replaces the traffic percentages of releases.
func (p *Proxy) SetWeights(w map[string]int) error {
	if err := CheckWeights(w); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.weights = maps.Clone(w)
	p.rebuild()
	return nil
}

// Weights returns the traffic percentages set last.
func (p *Proxy) Weights() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.weights)
}

// Backends returns the replica ids currently routed to, by release.
func (p *Proxy) Backends() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for _, b := range p.backends {
		out[b.release] = append(out[b.release], b.id)
	}
	return out
}

// rebuild publishes a new routing table; p.mu must be held.
func (p *Proxy) rebuild() {
	byRel := map[string][]*backend{}
	for _, b := range p.backends {
		byRel[b.release] = append(byRel[b.release], b)
	}
	t := &table{}
	for rel, bs := range byRel {
		sort.Slice(bs, func(i, j int) bool { return bs[i].id < bs[j].id })
		t.routes = append(t.routes, route{release: rel, weight: p.weights[rel], backends: bs, next: new(atomic.Uint64)})
		t.total += p.weights[rel]
	}
	sort.Slice(t.routes, func(i, j int) bool { return t.routes[i].release < t.routes[j].release })
	p.table.Store(t)
}

// pick chooses a release (the sticky one when it still gets traffic) and a backend of it,
// avoiding the backend skip. A release whose weight is 0 only serves when no weighted release
// has a backend, so traffic never stops while weights catch up with replicas.
func (t *table) pick(sticky string, skip *backend) *backend {
	if len(t.routes) == 0 {
		return nil
	}
	idx := -1
	if sticky != "" {
		for i, r := range t.routes {
			if r.release == sticky && r.weight > 0 {
				idx = i
			}
		}
	}
	if idx < 0 && t.total > 0 {
		n := rand.IntN(t.total)
		for i, r := range t.routes {
			if n < r.weight {
				idx = i
				break
			}
			n -= r.weight
		}
	}
	if idx < 0 {
		idx = len(t.routes) - 1
	}
	for range len(t.routes) {
		r := t.routes[idx]
		for range len(r.backends) {
			b := r.backends[r.next.Add(1)%uint64(len(r.backends))]
			if b != skip {
				return b
			}
		}
		idx = (idx + 1) % len(t.routes)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Metrics returns the cumulative metrics of release for the rollout engine.
func (p *Proxy) Metrics(release string) rollout.Metrics { return p.metrics.snapshot(release) }
