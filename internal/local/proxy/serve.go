package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The limits of the public listener, as net/http.Server applies them.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 1<<20 + 4096
	// watchAfter is how long a request waits for its backend before the connection starts
	// watching for the client going away; most answers come sooner and cost no goroutine.
	watchAfter = 20 * time.Millisecond
)

// aLongTimeAgo is a deadline that makes blocked reads return at once.
var aLongTimeAgo = time.Unix(1, 0)

// Serve serves the proxy on ln until ctx ends, then stops accepting and lets in-flight
// requests finish within the drain timeout.
//
// It is an HTTP/1.1 server of its own rather than net/http.Server with a ReverseProxy: one
// goroutine per client connection reads each request, forwards it over the pooled backend
// connections and writes the answer, with no goroutine per request, one write per response
// that fits the buffer, and responses to pipelined requests sent together.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	s := &server{p: p, conns: map[*sconn]struct{}{}}
	accepted := make(chan error, 1)
	go func() { accepted <- s.accept(ln) }()
	var err error
	select {
	case err = <-accepted:
	case <-ctx.Done():
		s.closing.Store(true)
		ln.Close()
		<-accepted
	}
	if derr := s.drain(p.opts.Load().DrainTimeout); err == nil {
		err = derr
	}
	return err
}

type server struct {
	p       *Proxy
	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*sconn]struct{}
}

// The states of a client connection; only an idle one may be closed by a shutdown.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

func (s *server) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		sc := newSconn(s, c)
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[sc] = struct{}{}
		s.mu.Unlock()
		go sc.serve()
	}
}

// drain closes idle connections until none is left, at most for d; then it closes the rest.
func (s *server) drain(d time.Duration) error {
	s.closing.Store(true)
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			if c.state.CompareAndSwap(stateIdle, stateClosed) {
				c.c.Close()
			}
		}
		if n > 0 && time.Now().After(deadline) {
			for c := range s.conns {
				c.cancel()
				c.c.Close()
			}
			s.mu.Unlock()
			return fmt.Errorf("%d client connections were still busy after the drain timeout of %s", n, d)
		}
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sconn is one client connection.
type sconn struct {
	s      *server
	c      net.Conn
	state  atomic.Int32
	in     connReader
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context // cancelled when the client goes away
	cancel context.CancelFunc
	client string // the client's IP, for X-Forwarded-For

	// The watch for the client going away while a request waits for its backend.
	watch     *time.Timer
	armed     bool
	wmu       sync.Mutex
	wstop     bool
	watchDone chan struct{}
}

func newSconn(s *server, c net.Conn) *sconn {
	sc := &sconn{s: s, c: c, watchDone: make(chan struct{}, 1)}
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	sc.in = connReader{c: c, limit: -1}
	sc.br = bufio.NewReaderSize(&sc.in, 4<<10)
	sc.bw = bufio.NewWriterSize(c, 8<<10)
	sc.in.bw = sc.bw
	if host, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		sc.client = host
	}
	sc.watch = time.AfterFunc(time.Hour, sc.watchRead)
	sc.watch.Stop()
	return sc
}

// connReader reads the client connection for the bufio.Reader: it flushes the responses not
// sent yet before it blocks (so pipelined responses go out together), bounds the request
// head, and first hands over a byte the disconnect watch read.
type connReader struct {
	c       net.Conn
	bw      *bufio.Writer
	limit   int64 // bytes left for the request head; -1 while reading a body
	hit     bool  // the head was larger than maxHeaderBytes
	pending bool
	b       byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.pending {
		r.pending = false
		p[0] = r.b
		return 1, nil
	}
	if r.bw.Buffered() > 0 {
		if err := r.bw.Flush(); err != nil {
			return 0, err
		}
	}
	if r.limit >= 0 {
		if r.limit == 0 {
			r.hit = true
			return 0, io.EOF
		}
		if int64(len(p)) > r.limit {
			p = p[:r.limit]
		}
		n, err := r.c.Read(p)
		r.limit -= int64(n)
		return n, err
	}
	return r.c.Read(p)
}

func (c *sconn) serve() {
	defer func() {
		// As net/http does, a bug met by one request closes its connection, not the proxy.
		if r := recover(); r != nil {
			c.s.p.opts.Load().Log.Error("proxy connection failed", "client", c.client, "panic", r, "stack", string(debug.Stack()))
		}
		c.stopWatch()
		c.cancel()
		c.c.Close()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	for {
		if c.br.Buffered() == 0 {
			c.c.SetReadDeadline(time.Now().Add(idleTimeout))
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return
		}
		c.c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
		c.in.limit = maxHeaderBytes
		req, err := http.ReadRequest(c.br)
		c.in.limit = -1
		if err == nil {
			err = checkRequest(req)
		}
		if err != nil {
			c.reject(err)
			return
		}
		if req.Body != http.NoBody {
			c.c.SetReadDeadline(time.Time{})
		}
		if !c.handle(req) || c.s.closing.Load() || c.ctx.Err() != nil {
			c.bw.Flush()
			return
		}
		if c.br.Buffered() == 0 {
			if c.bw.Flush() != nil {
				return
			}
		}
		c.state.Store(stateIdle)
		if c.s.closing.Load() && c.state.CompareAndSwap(stateIdle, stateClosed) {
			return
		}
	}
}

// badRequest is a request the proxy answers itself with its status.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

// checkRequest applies the checks net/http.Server makes beyond parsing.
func checkRequest(req *http.Request) error {
	if req.ProtoMajor != 1 {
		return &badRequest{http.StatusHTTPVersionNotSupported, "unsupported protocol version " + req.Proto}
	}
	// http.ReadRequest took the Host field out of the header (and rejects several).
	if req.ProtoAtLeast(1, 1) && req.Host == "" {
		return &badRequest{http.StatusBadRequest, "missing required Host header"}
	}
	if req.Method == http.MethodConnect {
		return &badRequest{http.StatusMethodNotAllowed, "CONNECT is not supported"}
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return &badRequest{http.StatusBadRequest, "invalid header name"}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return &badRequest{http.StatusBadRequest, "invalid header value"}
			}
		}
	}
	return nil
}

// reject answers a request that could not be read, unless the client just went away.
func (c *sconn) reject(err error) {
	status, msg := http.StatusBadRequest, ""
	var br *badRequest
	switch {
	case c.in.hit:
		status = http.StatusRequestHeaderFieldsTooLarge
	case errors.As(err, &br):
		status, msg = br.status, br.msg
	case errors.Is(err, io.EOF) || isTimeout(err) || errors.Is(err, net.ErrClosed):
		return
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		status = http.StatusNotImplemented
	}
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	if msg != "" {
		text += ": " + msg
	}
	c.c.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, http.StatusText(status), len(text), text)
	c.bw.Flush()
}

// handle proxies one request and reports whether the connection may serve another.
func (c *sconn) handle(req *http.Request) bool {
	start := time.Now()
	p := c.s.p
	opts := p.opts.Load()
	keep := req.ProtoAtLeast(1, 1) && !req.Close
	head := req.Method == http.MethodHead
	sticky := ""
	if opts.StickyCookie != "" {
		if ck, err := req.Cookie(opts.StickyCookie); err == nil {
			sticky = ck.Value
		}
	}
	b := p.table.Load().pick(sticky, nil)
	if b == nil {
		c.writeError(http.StatusServiceUnavailable, "pyship: no ready replica to serve this request\n", head, keep)
		p.metrics.observe("", http.StatusServiceUnavailable, time.Since(start))
		return keep && c.drainBody(req)
	}
	cookie := ""
	if opts.StickyCookie != "" && sticky != b.release {
		cookie = (&http.Cookie{Name: opts.StickyCookie, Value: b.release, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}).String()
	}
	upgrade := isUpgrade(req.Header)
	c.prepare(req, upgrade)
	if upgrade {
		return c.upgrade(req, b, start, cookie)
	}
	var body *watchedBody
	if req.Body != http.NoBody {
		if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
			c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if c.bw.Flush() != nil {
				return false
			}
		}
		body = &watchedBody{rc: req.Body, c: c}
		req.Body = body
	} else {
		if c.br.Buffered() == 0 && c.bw.Buffered() > 0 && c.bw.Flush() != nil {
			return false
		}
		c.arm()
	}
	delete(req.Header, "Expect")

	b.inflight.Add(1)
	defer func() { b.inflight.Add(-1) }()
	var resp *http.Response
	for tries := 0; ; tries++ {
		var err error
		resp, err = p.transport.roundTrip(c.ctx, b.addr, req)
		if err == nil {
			break
		}
		// A backend that could not be reached got nothing: a request without a body is safe
		// to send to another one.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && body == nil && tries < 3 && c.ctx.Err() == nil {
			if nb := p.table.Load().pick("", b); nb != nil {
				b.inflight.Add(-1)
				b = nb
				b.inflight.Add(1)
				continue
			}
		}
		c.stopWatch()
		if c.ctx.Err() != nil {
			p.metrics.observe(b.release, 499, time.Since(start))
			return false
		}
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			status = http.StatusGatewayTimeout
		}
		opts.Log.Warn("proxying failed", "replica", b.id, "release", b.release, "err", err)
		c.writeError(status, "", head, keep)
		p.metrics.observe(b.release, status, time.Since(start))
		return keep && (body == nil || body.eof)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		resp.Body.Close()
		c.stopWatch()
		c.writeError(http.StatusBadGateway, "", head, keep)
		p.metrics.observe(b.release, http.StatusBadGateway, time.Since(start))
		return keep
	}
	ok := c.writeResponse(req, resp, cookie, &keep)
	resp.Body.Close()
	c.stopWatch()
	p.metrics.observe(b.release, resp.StatusCode, time.Since(start))
	return ok && keep && (body == nil || body.eof)
}

// drainBody reads the rest of a request body the proxy answered without forwarding (as
// net/http does, up to 256 KiB) and reports whether the connection can go on.
func (c *sconn) drainBody(req *http.Request) bool {
	if req.Body == http.NoBody {
		return true
	}
	n, err := io.CopyN(io.Discard, req.Body, 256<<10)
	return errors.Is(err, io.EOF) || err == nil && n < 256<<10
}

// hopHeaders are the hop-by-hop fields a proxy does not forward (RFC 9110 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func isHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// connectionTokens calls f with each field named by the Connection header of h.
func connectionTokens(h http.Header, f func(string)) {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				f(http.CanonicalHeaderKey(tok))
			}
		}
	}
}

func isUpgrade(h http.Header) bool {
	if _, ok := h["Upgrade"]; !ok {
		return false
	}
	up := false
	connectionTokens(h, func(k string) { up = up || k == "Upgrade" })
	return up
}

// prepare turns the client's request into the backend's, in place.
func (c *sconn) prepare(req *http.Request, upgrade bool) {
	h := req.Header
	te, upg := h["Te"], h.Get("Upgrade")
	if len(h["Connection"]) > 0 {
		connectionTokens(h, func(k string) { delete(h, k) })
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
	for _, v := range te {
		if strings.Contains(strings.ToLower(v), "trailers") {
			h["Te"] = []string{"trailers"}
		}
	}
	if upgrade {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{upg}
	}
	if c.client != "" {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			h["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + c.client}
		} else {
			h["X-Forwarded-For"] = []string{c.client}
		}
	}
	h["X-Forwarded-Host"] = []string{req.Host}
	h["X-Forwarded-Proto"] = []string{"http"}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // not Go's default
	}
	req.Close = false
	req.URL.Scheme = "http"
}

// writeHead writes the status line and the end-to-end fields of h, plus cookie.
func (c *sconn) writeHead(code int, h http.Header, cookie string, skipLength bool) {
	bw := c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(code))
	bw.WriteString("\r\n")
	var named []string
	if len(h["Connection"]) > 0 {
		connectionTokens(h, func(k string) { named = append(named, k) })
	}
	for k, vv := range h {
		if isHop(k) || skipLength && k == "Content-Length" || len(named) > 0 && contains(named, k) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if cookie != "" {
		bw.WriteString("Set-Cookie: ")
		bw.WriteString(cookie)
		bw.WriteString("\r\n")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// writeResponse sends the backend's response; keep is cleared when the client connection
// must close after it. It reports whether the client took the whole response.
func (c *sconn) writeResponse(req *http.Request, resp *http.Response, cookie string, keep *bool) bool {
	code := resp.StatusCode
	noBody := req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified || code < 200
	chunked := false
	if !noBody && resp.ContentLength < 0 {
		if req.ProtoAtLeast(1, 1) {
			chunked = true
		} else {
			*keep = false // the end of the body is the end of the connection
		}
	}
	if c.s.closing.Load() {
		*keep = false
	}
	c.writeHead(code, resp.Header, cookie, !noBody)
	bw := c.bw
	if !noBody && resp.ContentLength >= 0 {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), resp.ContentLength, 10))
		bw.WriteString("\r\n")
	}
	if chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(resp.Trailer) > 0 {
			keys := make([]string, 0, len(resp.Trailer))
			for k := range resp.Trailer {
				keys = append(keys, k)
			}
			bw.WriteString("Trailer: " + strings.Join(keys, ", ") + "\r\n")
		}
	}
	if !*keep {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	if noBody {
		return true
	}
	if resp.ContentLength >= 0 {
		// The body goes into the write buffer; a large one flushes as the buffer fills.
		n, err := bw.ReadFrom(resp.Body)
		return err == nil && n == resp.ContentLength
	}
	return c.stream(resp, chunked)
}

// stream copies a body of unknown length, sending each piece as it comes (server-sent events,
// long polls and other streams).
func (c *sconn) stream(resp *http.Response, chunked bool) bool {
	bw := c.bw
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if chunked {
				bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
				bw.WriteString("\r\n")
			}
			bw.Write(buf[:n])
			if chunked {
				bw.WriteString("\r\n")
			}
			if err == nil && bw.Flush() != nil {
				return false
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false
		}
	}
	if chunked {
		bw.WriteString("0\r\n")
		for k, vv := range resp.Trailer {
			for _, v := range vv {
				bw.WriteString(k + ": " + v + "\r\n")
			}
		}
		bw.WriteString("\r\n")
	}
	return bw.Flush() == nil
}

// writeError answers the request with status and msg as the body.
func (c *sconn) writeError(status int, msg string, head, keep bool) {
	c.writeHead(status, nil, "", false)
	bw := c.bw
	if msg != "" {
		bw.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	}
	bw.WriteString("Content-Length: ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(msg)), 10))
	bw.WriteString("\r\n")
	if !keep || c.s.closing.Load() {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	if !head {
		bw.WriteString(msg)
	}
}

// upgrade passes a WebSocket (or other Upgrade) request to the backend on a connection of its
// own and, when the backend switches protocols, copies bytes both ways until one side closes.
func (c *sconn) upgrade(req *http.Request, b *backend, start time.Time, cookie string) bool {
	p := c.s.p
	head := req.Method == http.MethodHead
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
	fail := func(status int, err error) bool {
		p.opts.Load().Log.Warn("proxying an upgrade failed", "replica", b.id, "release", b.release, "err", err)
		c.writeError(status, "", head, false)
		p.metrics.observe(b.release, status, time.Since(start))
		return false
	}
	bc, err := p.transport.dialer.DialContext(c.ctx, "tcp", b.addr)
	if err != nil {
		return fail(http.StatusBadGateway, err)
	}
	defer bc.Close()
	if d := time.Duration(p.transport.timeout.Load()); d > 0 {
		bc.SetDeadline(time.Now().Add(d))
	}
	bbw := bufio.NewWriter(bc)
	if err := writeRequest(bbw, req); err == nil {
		err = bbw.Flush()
	}
	if err != nil {
		return fail(http.StatusBadGateway, err)
	}
	bbr := bufio.NewReader(bc)
	resp, err := http.ReadResponse(bbr, req)
	if err != nil {
		status := http.StatusBadGateway
		if isTimeout(err) {
			status = http.StatusGatewayTimeout
		}
		return fail(status, err)
	}
	bc.SetDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		keep := false
		c.writeResponse(req, resp, cookie, &keep)
		resp.Body.Close()
		p.metrics.observe(b.release, resp.StatusCode, time.Since(start))
		return false
	}
	// The switched connection keeps its Upgrade and Connection fields.
	c.writeHead(resp.StatusCode, resp.Header, cookie, false)
	for _, k := range []string{"Connection", "Upgrade"} {
		for _, v := range resp.Header[k] {
			c.bw.WriteString(k + ": " + v + "\r\n")
		}
	}
	c.bw.WriteString("\r\n")
	if c.bw.Flush() != nil {
		return false
	}
	p.metrics.observe(b.release, resp.StatusCode, time.Since(start))
	// Like a hijacked net/http connection, an upgraded one no longer holds up a shutdown.
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	c.c.SetReadDeadline(time.Time{})
	done := make(chan struct{}, 2)
	go func() { io.Copy(bc, c.br); done <- struct{}{} }()
	go func() { io.Copy(c.c, bbr); done <- struct{}{} }()
	select {
	case <-done:
	case <-c.ctx.Done():
	}
	bc.Close()
	c.c.Close()
	<-done
	return false
}

// watchedBody is a request body that starts the disconnect watch once it was read to its end.
type watchedBody struct {
	rc  io.ReadCloser
	c   *sconn
	eof bool
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	if errors.Is(err, io.EOF) && !w.eof {
		w.eof = true
		w.c.arm()
	}
	return n, err
}

func (w *watchedBody) Close() error {
	err := w.rc.Close()
	if err == nil && !w.eof {
		w.eof = true // net/http's body reads itself to its end on Close
		w.c.arm()
	}
	return err
}

// arm starts the disconnect watch after watchAfter, unless the client already sent more.
func (c *sconn) arm() {
	if c.armed || c.br.Buffered() > 0 {
		return
	}
	c.armed = true
	c.watch.Reset(watchAfter)
}

// watchRead runs on the timer's goroutine while the request waits: a read that fails means
// the client went away, and cancelling the connection's context ends the backend exchange.
// A byte that arrives is the next request's and is handed to the connReader.
func (c *sconn) watchRead() {
	c.wmu.Lock()
	if c.wstop {
		c.wmu.Unlock()
		c.watchDone <- struct{}{}
		return
	}
	c.c.SetReadDeadline(time.Time{})
	c.wmu.Unlock()
	var b [1]byte
	n, err := c.c.Read(b[:])
	if n == 1 {
		c.in.b, c.in.pending = b[0], true
	} else if err != nil && !isTimeout(err) {
		c.cancel()
	}
	c.watchDone <- struct{}{}
}

// stopWatch ends the disconnect watch before the connection reads the client again.
func (c *sconn) stopWatch() {
	if !c.armed {
		return
	}
	c.armed = false
	if c.watch.Stop() {
		return
	}
	c.wmu.Lock()
	c.wstop = true
	c.c.SetReadDeadline(aLongTimeAgo)
	c.wmu.Unlock()
	<-c.watchDone
	c.wstop = false
}
