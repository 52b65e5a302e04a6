package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// loopBackend serves what the tests of the proxy's own HTTP/1.1 loop need; gone receives a
// value when a /hang request's context ends, next releases the second half of /stream.
func loopBackend(t *testing.T, gone chan<- struct{}, next <-chan struct{}) *Proxy {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(400)
				return
			}
			fmt.Fprintf(w, "%s %d %q", r.Method, len(b), b)
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			<-next
			io.WriteString(w, "data: two\n\n")
		case "/big": // no Content-Length: net/http sends it chunked
			w.Write(bigBody)
		case "/bigcl":
			w.Header().Set("Content-Length", fmt.Sprint(len(bigBody)))
			w.Write(bigBody)
		case "/hang":
			<-r.Context().Done()
			gone <- struct{}{}
		default:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		}
	}))
	t.Cleanup(be.Close)
	p := New(Options{})
	p.AddBackend("a1", "r1", be.Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	return p
}

var bigBody = []byte(strings.Repeat("0123456789abcdef", 1<<16)) // 1 MiB

func dialFront(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(front(t, p), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func readResp(t *testing.T, br *bufio.Reader, method string) (int, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp.StatusCode, string(b)
}

func TestPipelinedRequestsAndHead(t *testing.T) {
	c, br := dialFront(t, loopBackend(t, nil, nil))
	// Three requests in one write; the answers must come back in order, HEAD without a body.
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"+
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
	if code, body := readResp(t, br, "GET"); code != 200 || body != "hello" {
		t.Errorf("first: %d %q", code, body)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	if err != nil || resp.StatusCode != 200 || resp.ContentLength != 5 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	if code, body := readResp(t, br, "POST"); code != 200 || body != `POST 3 "abc"` {
		t.Errorf("third (after a HEAD answered with Content-Length 5 and no body): %d %q", code, body)
	}
}

func TestChunkedRequestBody(t *testing.T) {
	c, br := dialFront(t, loopBackend(t, nil, nil))
	io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"+
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != `POST 7 "abcdefg"` {
		t.Errorf("chunked body: %d %q", resp.StatusCode, b)
	}
	// RFC 9112 6.1: framing by Transfer-Encoding may be read differently on the way, so the
	// connection is not kept.
	if !resp.Close {
		t.Error("the connection was kept after a chunked request")
	}
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Error("the request pipelined after a chunked one was answered")
	}
}

func TestStreamingResponse(t *testing.T) {
	next := make(chan struct{})
	c, br := dialFront(t, loopBackend(t, nil, next))
	io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("a stream of unknown length came with Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
	// The first event must arrive while the backend still holds the second one back.
	first := make([]byte, len("data: one\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: one\n\n" {
		t.Fatalf("first event: %q %v", first, err)
	}
	close(next)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "data: two\n\n" {
		t.Errorf("rest of the stream: %q %v", rest, err)
	}
}

func TestClientDisconnectCancelsBackend(t *testing.T) {
	gone := make(chan struct{}, 1)
	p := loopBackend(t, gone, nil)
	c, _ := dialFront(t, p)
	io.WriteString(c, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
	p.mu.Lock()
	b := p.backends["a1"]
	p.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for b.inflight.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend's request went on for 5s after its client went away")
	}
	for b.inflight.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := b.inflight.Load(); n != 0 {
		t.Errorf("%d requests still in flight after the client left", n)
	}
}

func TestBadRequests(t *testing.T) {
	p := loopBackend(t, nil, nil)
	for _, tc := range []struct {
		name, req string
		want      int
	}{
		{"malformed", "GARBAGE\r\n\r\n", 400},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"bad header", "GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400},
		{"oversized header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
	} {
		c, br := dialFront(t, p)
		go io.WriteString(c, tc.req) // the proxy may answer before it read it all
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || !resp.Close {
			t.Errorf("%s: got %d (close %v), want %d and the connection closed", tc.name, resp.StatusCode, resp.Close, tc.want)
		}
	}
}

func TestLargeResponsesAndExpectContinue(t *testing.T) {
	c, br := dialFront(t, loopBackend(t, nil, nil))
	for _, path := range []string{"/big", "/bigcl", "/big"} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, body := readResp(t, br, "GET"); code != 200 || body != string(bigBody) {
			t.Errorf("%s: %d and %d bytes, want 200 and %d bytes", path, code, len(body), len(bigBody))
		}
	}
	io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 100 {
		t.Fatalf("Expect: 100-continue got %v %v, want 100 before the body is sent", resp, err)
	}
	io.WriteString(c, "hi")
	if code, body := readResp(t, br, "POST"); code != 200 || body != `POST 2 "hi"` {
		t.Errorf("after 100 Continue: %d %q", code, body)
	}
}

func TestServeDrainsOnShutdown(t *testing.T) {
	p := New(Options{DrainTimeout: 5 * time.Second})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln) }()
	// An idle keep-alive connection must not hold the shutdown up; a running request must finish.
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	res := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			res <- 0
			return
		}
		resp.Body.Close()
		res <- resp.StatusCode
	}()
	p.mu.Lock()
	b := p.backends["a1"]
	p.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for b.inflight.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if code := <-res; code != 200 {
		t.Errorf("the request running during the shutdown got %d, want 200", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s with one idle connection and one 300ms request", d)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts after Serve returned")
	}
}
