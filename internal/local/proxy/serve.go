package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

// The limits of the public listener.
const (
	// readHeaderTimeout bounds the wait for a request head, and idleTimeout the wait for the
	// next request on a kept-alive connection: a client that sends nothing is gone in 10 s.
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 10 * time.Second
	maxHeaderBytes    = 1 << 20
)

// aLongTimeAgo is a deadline that makes blocked reads return at once.
var aLongTimeAgo = time.Unix(1, 0)

// Serve serves the proxy on ln until ctx ends, then stops accepting and lets in-flight
// requests finish within the drain timeout.
//
// Clients are served by net/http's server, whose HTTP/1.1 parser is the most tested in Go:
// it rejects ambiguous framing (CL.TE, TE.TE, duplicate lengths, bad chunks and trailers),
// invalid Host fields and oversized heads before a request reaches the proxy.
// noReplicaRetryAfter is the Retry-After of a 503 for want of a ready replica, in seconds.
const noReplicaRetryAfter = "5"

func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	return serveEdge(ctx, ln, p, nil, func() time.Duration { return p.opts.Load().DrainTimeout }, p.opts.Load().Log)
}

// serveEdge serves h on ln with the edge's limits until ctx ends, then drains within the
// time drain returns then. With tlsConfig it speaks TLS and negotiates HTTP/2 by ALPN.
func serveEdge(ctx context.Context, ln net.Listener, h http.Handler, tlsConfig *tls.Config, drain func() time.Duration, log *slog.Logger) error {
	var mu sync.Mutex
	fresh := map[net.Conn]bool{} // connections that have not sent a whole request yet
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, st http.ConnState) {
			mu.Lock()
			if st == http.StateNew {
				fresh[c] = true
			} else {
				delete(fresh, c)
			}
			mu.Unlock()
		},
	}
	served := make(chan error, 1)
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig.Clone()
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain())
	defer cancel()
	// net/http's Shutdown waits 5 s for a connection that never sent a request; give such
	// connections a second to finish their first request head, then close them.
	closeFresh := time.AfterFunc(time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range fresh {
			c.Close()
		}
	})
	defer closeFresh.Stop()
	err := srv.Shutdown(dctx)
	<-served
	if err != nil {
		srv.Close()
		return fmt.Errorf("draining the client connections: %w", err)
	}
	return nil
}

// The outcomes of a request, which the metrics keep apart.
const (
	outApp     = iota // the app answered
	outProxy          // the proxy failed to get an answer (502, 503, 504)
	outRefused        // the proxy refused the request, or the client went away
)

// call is one request on its way through the proxy.
type call struct {
	b       *backend
	cookie  string
	body    *clientBody
	outcome int
	status  int
}

type callKey struct{}

func callOf(r *http.Request) *call { return r.Context().Value(callKey{}).(*call) }

// ServeHTTP proxies one request to a backend of the release the routing table picks.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	opts := p.opts.Load()
	cw := &clientWriter{ResponseWriter: w, ctl: http.NewResponseController(w), d: opts.ClientTimeout}
	c := &call{}
	defer func() {
		status := c.status
		if c.outcome == outApp {
			status = cw.status
		}
		release := ""
		if c.b != nil {
			release = c.b.release
		}
		p.metrics.observe(release, c.outcome, status, time.Since(start))
	}()
	switch {
	case r.ProtoMajor != 1 && (r.ProtoMajor != 2 || r.TLS == nil): // HTTP/2 only as negotiated over TLS
		c.refuse(cw, http.StatusHTTPVersionNotSupported, "pyship: unsupported protocol version "+r.Proto)
		return
	case r.Method == http.MethodConnect:
		c.refuse(cw, http.StatusMethodNotAllowed, "pyship: CONNECT is not supported")
		return
	}
	if status, msg := opts.gate.check(r); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="pyship", charset="UTF-8"`)
		}
		c.outcome, c.status = outRefused, status
		http.Error(cw, msg, status)
		return
	}
	// RFC 9112 6.1: a request with Transfer-Encoding (net/http dropped any Content-Length
	// next to it) may have been framed differently by someone on the way; do not keep the
	// connection.
	if len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
	}
	sticky := ""
	if opts.StickyCookie != "" {
		if ck, err := r.Cookie(opts.StickyCookie); err == nil {
			sticky = ck.Value
		}
	}
	c.b = p.table.Load().pick(sticky, nil)
	if c.b == nil {
		c.outcome, c.status = outProxy, http.StatusServiceUnavailable
		// Between releases (a recreate deploy, a restart) or while none is ready: clients
		// and load balancers that honour it come back instead of failing at once.
		cw.Header().Set("Retry-After", noReplicaRetryAfter)
		http.Error(cw, "pyship: no ready replica to serve this request", http.StatusServiceUnavailable)
		return
	}
	if opts.StickyCookie != "" && sticky != c.b.release {
		c.cookie = (&http.Cookie{Name: opts.StickyCookie, Value: c.b.release, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}).String()
	}
	if r.Body != nil && r.Body != http.NoBody {
		c.body = &clientBody{rc: r.Body, ctl: cw.ctl, d: opts.ClientTimeout}
		r.Body = c.body
	}
	c.b.inflight.Add(1)
	defer func() { c.b.inflight.Add(-1) }() // c.b changes when a retry picks another backend
	p.rp.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// refuse answers a request the proxy will not forward, and closes the connection: what
// follows a request the proxy could not make sense of cannot be trusted either.
func (c *call) refuse(w http.ResponseWriter, status int, msg string) {
	c.outcome, c.status = outRefused, status
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
}

// rewrite turns the client's request into the backend's.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	c := callOf(pr.In)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = c.b.addr
	pr.Out.Host = pr.In.Host
	pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"] // appended to, as before
	pr.SetXForwarded()
	// net/http answered any Expect: 100-continue when the body was first read; request
	// trailers are not forwarded (nginx does not either), so none can smuggle framing fields.
	pr.Out.Header.Del("Expect")
	pr.Out.Trailer = nil
	// An app that does not read a body would take it for the next request on a kept
	// connection (Python's http.server does): ask the backend to close after it.
	if hasBody(pr.Out) {
		pr.Out.Close = true
	}
}

// roundTrip sends the request to its backend; a backend that cannot be reached got nothing,
// so the request goes to another one.
func (p *Proxy) roundTrip(req *http.Request) (*http.Response, error) {
	c := callOf(req)
	for tries := 0; ; tries++ {
		resp, err := p.transport.RoundTrip(req)
		var op *net.OpError
		if err == nil || !errors.As(err, &op) || op.Op != "dial" || tries >= 3 || req.Context().Err() != nil {
			return resp, err
		}
		nb := p.table.Load().pick("", c.b)
		if nb == nil {
			return resp, err
		}
		c.b.inflight.Add(-1)
		c.b = nb
		c.b.inflight.Add(1)
		req.URL.Host = nb.addr
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *Proxy) modifyResponse(resp *http.Response) error {
	if c := callOf(resp.Request); c.cookie != "" {
		resp.Header.Add("Set-Cookie", c.cookie)
	}
	return nil
}

// proxyError answers a request that got no response from its backend, telling apart what
// the client caused (a body it framed badly or sent too slowly, or its leaving) from what the
// backend did.
func (p *Proxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c := callOf(r)
	switch {
	case c.body != nil && c.body.err != nil:
		status := http.StatusBadRequest
		if isTimeout(c.body.err) {
			status = http.StatusRequestTimeout
		}
		c.refuse(w, status, "pyship: reading the request body: "+c.body.err.Error())
		return
	case r.Context().Err() != nil:
		c.outcome, c.status = outRefused, 499 // nginx's code for a client that left
		return
	}
	status := http.StatusBadGateway
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
	}
	p.opts.Load().Log.Warn("proxying failed", "replica", c.b.id, "release", c.b.release, "err", err)
	c.outcome, c.status = outProxy, status
	w.WriteHeader(status)
}

// clientBody is a request body with a deadline for each read, so a client that stops
// sending cannot hold a backend, while a long upload that keeps moving is never cut short.
// It keeps the first error, which is the client's fault.
type clientBody struct {
	rc  io.ReadCloser
	ctl *http.ResponseController
	d   time.Duration
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	b.ctl.SetReadDeadline(time.Now().Add(b.d))
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *clientBody) Close() error { return b.rc.Close() }

// clientWriter keeps a write deadline ahead of each write of a response, so a client that
// stops reading releases its backend, and records the status sent. The deadline moves at
// most once a second: a write always has at least d-1s.
type clientWriter struct {
	http.ResponseWriter
	ctl    *http.ResponseController
	d      time.Duration
	set    time.Time // when the deadline was last moved
	status int
}

func (w *clientWriter) extend() {
	if now := time.Now(); now.Sub(w.set) >= time.Second {
		w.set = now
		w.ctl.SetWriteDeadline(now.Add(w.d))
	}
}

func (w *clientWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *clientWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.extend()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (flushes, upgrades) reach the connection.
func (w *clientWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool struct{ sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.Pool.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(v []byte) { b.Pool.Put(&v) }

func (p *Proxy) newReverseProxy(log *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      roundTripFunc(p.roundTrip),
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.proxyError,
		BufferPool:     &bufferPool{},
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
