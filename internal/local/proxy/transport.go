package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The limits of the connections to backends.
const (
	// backendIdleTimeout is how long a pooled connection may wait for its next request; it is
	// shorter than the shortest keep-alive of the Python servers (uvicorn: 5 s), so the proxy
	// never sends a request on a connection the backend is closing.
	backendIdleTimeout = 4 * time.Second
	// maxResponseHeaderBytes bounds a backend's response head (status line and fields).
	maxResponseHeaderBytes = 1 << 20
)

// errHeadTooLarge is a backend response head beyond maxResponseHeaderBytes.
var errHeadTooLarge = fmt.Errorf("the backend's response headers exceed %d bytes", maxResponseHeaderBytes)

// fastTransport is an http.RoundTripper for HTTP/1.1 backends on loopback that runs each
// exchange on the calling goroutine: no reader and writer goroutines per connection, which on
// a small machine cost more CPU than the proxying itself. Because one goroutine sees a whole
// exchange, it can decide exactly when a connection is clean enough to be used again:
//
//   - after a request with a body, after HEAD, 1xx, 204 and 304 responses, and after any
//     error, the connection is closed: a backend that did not read a body, or that sent a
//     body where none belongs, leaves bytes that the next request would read as its answer;
//   - a connection that holds bytes after its response ended is closed, and one that has
//     bytes (or the backend's close) waiting when it is taken from the pool is discarded;
//   - pooled connections expire after backendIdleTimeout;
//   - a request is sent again only when it is idempotent, has no body, went out on a reused
//     connection and got no byte back, and never after a timeout.
type fastTransport struct {
	dialer  *net.Dialer
	timeout atomic.Int64 // time.Duration for the response headers
	maxIdle int

	mu   sync.Mutex
	idle map[string][]*pconn
}

type pconn struct {
	c         net.Conn
	in        *headLimit
	out       *deadlineWriter
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// headLimit reads a backend connection, bounding the bytes read while a response head is
// parsed (left >= 0) and counting what an exchange got back.
type headLimit struct {
	c    net.Conn
	left int64 // -1: no limit
	got  int64
}

func (r *headLimit) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errHeadTooLarge
	}
	if r.left > 0 && int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.c.Read(p)
	if r.left > 0 {
		r.left -= int64(n)
	}
	r.got += int64(n)
	return n, err
}

// deadlineWriter gives each write to a backend its own deadline, so that a backend that
// stops reading a request body cannot hold the proxy, while a long upload that keeps
// moving is never cut short.
type deadlineWriter struct {
	c net.Conn
	d time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if w.d > 0 {
		w.c.SetWriteDeadline(time.Now().Add(w.d))
	}
	return w.c.Write(p)
}

// RoundTrip sends req to the backend req.URL.Host and reads its response head; the request's
// context ends the exchange.
func (t *fastTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	host := req.URL.Host
	for attempt := 0; ; attempt++ {
		pc, reused, err := t.get(ctx, host)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(ctx, host, pc, req)
		if err == nil {
			return resp, nil
		}
		pc.c.Close()
		// The backend closed a pooled connection just as it was used: a request that is safe
		// to repeat and that got nothing back is sent once more, on a new connection.
		if reused && attempt == 0 && pc.in.got == 0 && replayable(req) && !isTimeout(err) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

func hasBody(req *http.Request) bool { return req.Body != nil && req.Body != http.NoBody }

// replayable reports whether req may be sent twice (RFC 9110 9.2.2), as net/http decides.
func replayable(req *http.Request) bool {
	if hasBody(req) {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// get takes a clean pooled connection to host, or dials one.
func (t *fastTransport) get(ctx context.Context, host string) (*pconn, bool, error) {
	for {
		t.mu.Lock()
		l := t.idle[host]
		if len(l) == 0 {
			t.mu.Unlock()
			break
		}
		pc := l[len(l)-1]
		t.idle[host] = l[:len(l)-1]
		t.mu.Unlock()
		if time.Since(pc.idleSince) < backendIdleTimeout && pc.clean() {
			return pc, true, nil
		}
		pc.c.Close()
	}
	c, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	in, out := &headLimit{c: c, left: -1}, &deadlineWriter{c: c}
	return &pconn{c: c, in: in, out: out, br: bufio.NewReaderSize(in, 16<<10), bw: bufio.NewWriterSize(out, 8<<10)}, false, nil
}

// clean reports whether nothing arrived on an idle connection: no stray bytes and no close.
// It peeks at the socket without blocking (one recv with MSG_PEEK|MSG_DONTWAIT).
func (pc *pconn) clean() bool {
	if pc.br.Buffered() > 0 {
		return false
	}
	sc, ok := pc.c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var b [1]byte
	quiet := false
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		quiet = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true // never wait for the socket to become readable
	})
	return err == nil && quiet
}

func (t *fastTransport) put(host string, pc *pconn) {
	if pc.br.Buffered() > 0 { // bytes beyond the response's end
		pc.c.Close()
		return
	}
	pc.idleSince = time.Now()
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*pconn{}
	}
	if len(t.idle[host]) < t.maxIdle {
		t.idle[host] = append(t.idle[host], pc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	pc.c.Close()
}

// closeIdle closes the pooled connections to host (a backend that went away).
func (t *fastTransport) closeIdle(host string) {
	t.mu.Lock()
	l := t.idle[host]
	delete(t.idle, host)
	t.mu.Unlock()
	for _, pc := range l {
		pc.c.Close()
	}
}

func (t *fastTransport) exchange(ctx context.Context, host string, pc *pconn, req *http.Request) (*http.Response, error) {
	// Cancelling the request unblocks any read or write by expiring the connection's deadline.
	stop := context.AfterFunc(ctx, func() { pc.c.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	d := time.Duration(t.timeout.Load())
	withBody := hasBody(req)
	pc.in.got = 0
	if withBody {
		pc.out.d = d // each write of a body gets its own deadline
	} else if d > 0 {
		pc.c.SetDeadline(time.Now().Add(d)) // one deadline for the request head and the answer
	}
	if err := writeRequest(pc.bw, req); err != nil {
		return fail(err)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err)
	}
	// The timeout runs from the end of the request, so a slow upload is not cut short, and
	// covers the whole wait for the head, informational responses included.
	if withBody && d > 0 {
		pc.c.SetReadDeadline(time.Now().Add(d))
	}
	if ctx.Err() != nil {
		pc.c.SetDeadline(aLongTimeAgo) // the AfterFunc may have run before the line above
	}
	pc.in.left = maxResponseHeaderBytes
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			if pc.in.left == 0 || errors.Is(err, errHeadTooLarge) {
				err = errHeadTooLarge
			}
			pc.in.left = -1
			return fail(fmt.Errorf("reading the backend's response: %w", err))
		}
		if err := checkResponse(resp); err != nil {
			pc.in.left = -1
			return fail(err)
		}
		if resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // informational responses are not forwarded
		}
		break
	}
	pc.in.left = -1
	if withBody {
		pc.c.SetReadDeadline(time.Time{})
		pc.out.d = 0
	} else if d > 0 {
		pc.c.SetDeadline(time.Time{})
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if !stop() {
			return fail(ctx.Err())
		}
		resp.Body = &switched{pc: pc}
		return resp, nil
	}
	reusable := !resp.Close && !req.Close && !withBody && req.Method != http.MethodHead &&
		resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified
	if resp.Body == http.NoBody || resp.Body == nil {
		if stop() && reusable {
			t.put(host, pc)
		} else {
			pc.c.Close()
		}
		return resp, nil
	}
	resp.Body = &body{rc: resp.Body, pc: pc, t: t, host: host, stop: stop, reusable: reusable, resp: resp}
	return resp, nil
}

// checkResponse rejects what http.ReadResponse lets through but a client must not get: a
// status outside 100-599, a version other than HTTP/1.x, and header fields with invalid
// names (such as a space before the colon, which some parsers read as framing) or values.
func checkResponse(resp *http.Response) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("the backend answered with the invalid status %d", resp.StatusCode)
	}
	if resp.ProtoMajor != 1 {
		return fmt.Errorf("the backend answered in %s, not HTTP/1.x", resp.Proto)
	}
	for k, vv := range resp.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("the backend sent the invalid header field name %q", k)
		}
		if slices.ContainsFunc(vv, invalidValue) {
			return fmt.Errorf("the backend sent an invalid value of the header field %s", k)
		}
	}
	return nil
}

// body returns the connection to the pool once the response was read to its end.
type body struct {
	rc       io.ReadCloser
	pc       *pconn
	t        *fastTransport
	host     string
	stop     func() bool
	reusable bool
	done     bool
	resp     *http.Response // whose Trailer is filled in at the body's end
}

func invalidValue(v string) bool { return !httpguts.ValidHeaderFieldValue(v) }

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		for k, vv := range b.resp.Trailer {
			if !httpguts.ValidHeaderFieldName(k) || slices.ContainsFunc(vv, invalidValue) {
				delete(b.resp.Trailer, k) // a trailer the client must not get is dropped
			}
		}
		if b.stop() && b.reusable {
			b.t.put(b.host, b.pc)
		} else {
			b.pc.c.Close()
		}
	}
	return n, err
}

func (b *body) Close() error {
	if !b.done {
		b.done = true
		b.stop()
		b.pc.c.Close()
	}
	return nil
}

// switched is the backend connection after a 101 response, as httputil.ReverseProxy wants it
// to pass an upgraded connection through.
type switched struct{ pc *pconn }

func (s *switched) Read(p []byte) (int, error)  { return s.pc.br.Read(p) }
func (s *switched) Write(p []byte) (int, error) { return s.pc.c.Write(p) }
func (s *switched) Close() error                { return s.pc.c.Close() }

// writeRequest writes req in the HTTP/1.1 format. One without a body (nearly all) is written
// here, without Request.Write's transfer writer and sorted header copy; net/http's server
// checked its fields when it read the request.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	if hasBody(req) || len(req.Trailer) > 0 {
		return req.Write(w)
	}
	uri := req.URL.RequestURI()
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	if req.Host != "" {
		w.WriteString(req.Host)
	} else {
		w.WriteString(req.URL.Host)
	}
	w.WriteString("\r\n")
	_, sentLength := req.Header["Content-Length"]
	for k, vv := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		for _, v := range vv {
			if v == "" && k == "User-Agent" {
				continue
			}
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	switch {
	case sentLength, req.Method == http.MethodPost, req.Method == http.MethodPut, req.Method == http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n")
	}
	if req.Close {
		w.WriteString("Connection: close\r\n")
	}
	_, err := w.WriteString("\r\n")
	return err
}
