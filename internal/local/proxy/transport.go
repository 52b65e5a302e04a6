package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// fastTransport is an HTTP/1.1 round tripper to loopback backends that runs each exchange on
// the calling goroutine: no per-connection reader and writer goroutines, which on a small
// machine cost more CPU than the proxying itself. Upgrades get connections of their own
// (sconn.upgrade).
type fastTransport struct {
	dialer  *net.Dialer
	timeout atomic.Int64 // time.Duration for the response headers
	maxIdle int

	mu   sync.Mutex
	idle map[string][]*pconn
}

type pconn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// roundTrip sends req to the backend host and reads its response; ctx ends the exchange.
func (t *fastTransport) roundTrip(ctx context.Context, host string, req *http.Request) (*http.Response, error) {
	req.URL.Host = host
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
		// A pooled connection the backend closed meanwhile: nothing was answered, so a request
		// without a body is sent again on a fresh connection.
		if reused && attempt == 0 && (req.Body == nil || req.Body == http.NoBody) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

func (t *fastTransport) get(ctx context.Context, host string) (*pconn, bool, error) {
	t.mu.Lock()
	if l := t.idle[host]; len(l) > 0 {
		pc := l[len(l)-1]
		t.idle[host] = l[:len(l)-1]
		t.mu.Unlock()
		return pc, true, nil
	}
	t.mu.Unlock()
	c, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	return &pconn{c: c, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 8<<10)}, false, nil
}

func (t *fastTransport) put(host string, pc *pconn) {
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
	stop := context.AfterFunc(ctx, func() { pc.c.SetDeadline(time.Unix(1, 0)) })
	if d := time.Duration(t.timeout.Load()); d > 0 {
		pc.c.SetDeadline(time.Now().Add(d))
	}
	if err := writeRequest(pc.bw, req); err != nil {
		stop()
		return nil, err
	}
	if err := pc.bw.Flush(); err != nil {
		stop()
		return nil, err
	}
	var resp *http.Response
	var err error
	for {
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			stop()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // informational responses are not forwarded
		}
		break
	}
	pc.c.SetDeadline(time.Time{})
	reusable := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	if resp.Body == http.NoBody || resp.Body == nil {
		if stop() && reusable {
			t.put(host, pc)
		} else {
			pc.c.Close()
		}
		return resp, nil
	}
	resp.Body = &body{rc: resp.Body, pc: pc, t: t, host: host, stop: stop, reusable: reusable}
	return resp, nil
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
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
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

// writeRequest writes req in the HTTP/1.1 format. One without a body (nearly all) is written
// here, without Request.Write's transfer writer and sorted header copy; its fields were
// checked when the request was read (checkRequest).
func writeRequest(w *bufio.Writer, req *http.Request) error {
	if req.Body != nil && req.Body != http.NoBody || len(req.Trailer) > 0 {
		return req.Write(w)
	}
	uri := req.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = req.URL.RequestURI()
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
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
