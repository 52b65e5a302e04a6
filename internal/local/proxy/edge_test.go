package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// The raw-socket suite of the edge: every class of docs/local.md's table ("The edge against
// nginx"), against the real proxy in front of real Python servers or of raw-TCP backends that
// misbehave on purpose.

func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

// TestEdgeSmuggling: a request whose framing two parsers could read differently is answered
// (or refused) and its connection closed; what follows it never reaches the app.
func TestEdgeSmuggling(t *testing.T) {
	cases := []struct {
		name, req string
		want      int
	}{
		{"CL.TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 200},
		{"TE.CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(smuggled) + "0\r\n\r\n", 200},
		{"TE.TE unknown coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n\r\n0\r\n\r\n" + smuggled, 501},
		{"TE.TE list", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, 501},
		{"TE.TE space before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled, 400},
		// net/http unfolds the line (RFC 9112 5.2 allows replacing obs-fold by a space).
		{"TE.TE folded", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled, 200},
		{"bad trailer", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n" + smuggled, 400},
		{"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + smuggled, 400},
		{"duplicate Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + smuggled, 400},
		{"Content-Length list", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 40\r\n\r\nabc" + smuggled, 400},
		{"negative Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\nabc" + smuggled, 400},
	}
	for _, kind := range pyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			be := startPy(t, kind, 2)
			_, addr := edgeFront(t, be.addr, Options{})
			for _, tc := range cases {
				res, closed := exchange(t, addr, tc.req, "POST", 2)
				if len(res) != 1 || res[0].status != tc.want || !closed {
					t.Errorf("%s: got %v (closed %v), want one %d and the connection closed", tc.name, res, closed, tc.want)
				}
			}
			if be.saw(t, "/smuggled") {
				t.Errorf("a smuggled request reached the app: %v", be.seen(t))
			}
		})
	}
}

// TestEdgePoolPoisoning: a backend connection that may hold bytes nobody asked for (a body on
// HEAD, 204 or 304, more than Content-Length, sent at once or a little later) is never used
// for another client's request.
func TestEdgePoolPoisoning(t *testing.T) {
	const poison = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON"
	addr := rawBackend(t, func(c net.Conn, req *http.Request, _ []byte) bool {
		switch req.URL.Path {
		case "/204":
			io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n"+poison)
		case "/304":
			io.WriteString(c, "HTTP/1.1 304 Not Modified\r\n\r\n"+poison)
		case "/head":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"+poison)
		case "/long":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"+poison)
		case "/late":
			io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
			time.Sleep(5 * time.Millisecond) // the stray bytes come a little after the response
			io.WriteString(c, poison)
		default:
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal")
		}
		return true
	})
	_, front := edgeFront(t, addr, Options{})
	var wg sync.WaitGroup
	var poisoned, failed atomic.Int64
	for _, bad := range []string{"GET /204", "GET /304", "HEAD /head", "GET /long", "GET /late"} {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					method, _, _ := strings.Cut(bad, " ")
					ask(t, front, bad+" HTTP/1.1\r\nHost: x\r\n\r\n", method, 1)
					res := ask(t, front, "GET /real HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET", 1)
					switch {
					case len(res) == 1 && res[0].body == "real":
					case len(res) == 1 && strings.Contains(res[0].body, "POISON"):
						poisoned.Add(1)
					default:
						failed.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	if poisoned.Load() > 0 || failed.Load() > 0 {
		t.Errorf("of 500 clients after a misbehaving response, %d got the stray bytes as their answer and %d failed", poisoned.Load(), failed.Load())
	}
}

// TestEdgeUnreadBodyPoisoning: an app that never reads a request body must not turn that body
// into a second request whose answer another client gets (http.server keeps the connection
// and would parse the body as the next request).
func TestEdgeUnreadBodyPoisoning(t *testing.T) {
	inner := "GET /poison HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, kind := range pyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			be := startPy(t, kind, 2)
			_, front := edgeFront(t, be.addr, Options{})
			for i := range 20 {
				res := ask(t, front, fmt.Sprintf("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(inner), inner), "POST", 1)
				if len(res) != 1 || res[0].status != 200 {
					t.Fatalf("POST /ignore: %v", res)
				}
				path := fmt.Sprintf("/after%d", i)
				res = ask(t, front, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
				if want := "GET " + path + " 0 host=x"; len(res) != 1 || res[0].body != want {
					t.Fatalf("the next client got %v, want %q", res, want)
				}
			}
			if be.saw(t, "/poison") {
				t.Errorf("the body of a request reached the app as a request: %v", be.seen(t))
			}
		})
	}
}

// TestEdgeStalledUploads: two uploads that stop sending must not block a 2-worker gunicorn
// app for good: the proxy answers them 408 after the client timeout and frees the workers,
// and they count as refused, not as the release's errors.
func TestEdgeStalledUploads(t *testing.T) {
	be := startPy(t, "gunicorn", 2)
	p, front := edgeFront(t, be.addr, Options{ClientTimeout: time.Second})
	stalled := make(chan []rawResp, 2)
	for range 2 {
		go func() {
			res := ask(t, front, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", "POST", 1)
			stalled <- res
		}()
	}
	if !waitFor(10*time.Second, func() bool { return len(be.seen(t)) >= 2 }) {
		t.Fatalf("the stalled uploads never reached the app: %v", be.seen(t))
	}
	start := time.Now()
	res := ask(t, front, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
	if len(res) != 1 || res[0].status != 200 {
		t.Fatalf("with two stalled uploads a request got %v", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the request waited %s for a worker", d)
	}
	for range 2 {
		if r := <-stalled; len(r) != 1 || r[0].status != http.StatusRequestTimeout {
			t.Errorf("a stalled upload got %v, want 408", r)
		}
	}
	m := eventually(p, "r1", 1)
	if m.Errors != 0 || m.Refused != 2 {
		t.Errorf("metrics: %d errors, %d refused; want 0 and 2", m.Errors, m.Refused)
	}
}

// TestEdgeClientNeverReads: a client that never reads its response releases the backend
// (a 1-worker gunicorn app) after the client timeout.
func TestEdgeClientNeverReads(t *testing.T) {
	be := startPy(t, "gunicorn", 1)
	_, front := edgeFront(t, be.addr, Options{ClientTimeout: time.Second})
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	if !waitFor(10*time.Second, func() bool { return be.saw(t, "/big") }) {
		t.Fatal("GET /big never reached the app")
	}
	start := time.Now()
	res := ask(t, front, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
	if len(res) != 1 || res[0].status != 200 {
		t.Fatalf("behind a client that never reads, a request got %v", res)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the request waited %s for the only worker", d)
	}
}

// TestEdgeSilentConnection: a connection that sends nothing is closed after 10 s.
func TestEdgeSilentConnection(t *testing.T) {
	t.Parallel()
	_, front := edgeFront(t, backendServer(t, "r1").Listener.Addr().String(), Options{})
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(20 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if d := time.Since(start); err == nil || d < 9*time.Second || d > 13*time.Second {
		t.Errorf("a silent connection ended after %s (%v), want about 10s", d, err)
	}
}

// TestEdgeSlowUploadThatMoves: an upload that keeps sending is not cut short by the request
// timeout or the client timeout, however long it takes.
func TestEdgeSlowUploadThatMoves(t *testing.T) {
	be := startPy(t, "uvicorn", 1)
	_, front := edgeFront(t, be.addr, Options{ClientTimeout: time.Second, RequestTimeout: time.Second})
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
		for range 10 {
			time.Sleep(300 * time.Millisecond) // a slow client's pace, 3 s in all
			io.WriteString(pw, "x")
		}
		pw.Close()
	}()
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go io.Copy(c, pr)
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufioReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "POST /echo 10 host=x" {
		t.Errorf("a 3 s upload with 1 s timeouts got %d %q", resp.StatusCode, b)
	}
}

// TestEdgeSlowBackend: a hung backend gets its 504 after one request timeout, the request is
// not sent twice, and the 504 counts as the release's error.
func TestEdgeSlowBackend(t *testing.T) {
	for _, kind := range pyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			be := startPy(t, kind, 2)
			p, front := edgeFront(t, be.addr, Options{RequestTimeout: time.Second})
			// The same client connection; a pooled backend connection where the server keeps them.
			start := time.Now()
			res := ask(t, front, "GET /warm HTTP/1.1\r\nHost: x\r\n\r\nGET /sleep HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET", 2)
			if d := time.Since(start); len(res) != 2 || res[1].status != http.StatusGatewayTimeout || d > 1800*time.Millisecond {
				t.Fatalf("got %v after %s, want 200 then a 504 after the 1 s timeout", res, d)
			}
			start = time.Now()
			res = ask(t, front, "GET /sleep HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET", 1)
			if d := time.Since(start); len(res) != 1 || res[0].status != http.StatusGatewayTimeout || d > 1800*time.Millisecond {
				t.Errorf("got %v after %s, want a 504 after the 1 s timeout", res, d)
			}
			n := 0
			for _, l := range be.seen(t) {
				if l == "GET_/sleep" {
					n++
				}
			}
			if n != 2 {
				t.Errorf("the app got GET /sleep %d times for 2 requests: %v", n, be.seen(t))
			}
			if m := eventually(p, "r1", 3); m.Errors != 2 {
				t.Errorf("metrics: %d errors, want the 2 timeouts", m.Errors)
			}
		})
	}
}

// TestEdgeNoRetryOfUnsafeRequests: a request that went out on a reused connection that then
// failed is sent again only when it is idempotent and has no body.
func TestEdgeNoRetryOfUnsafeRequests(t *testing.T) {
	var mu sync.Mutex
	count := map[string]int{}
	addr := rawBackend(t, func(c net.Conn, req *http.Request, _ []byte) bool {
		mu.Lock()
		count[req.Method+" "+req.URL.Path]++
		mu.Unlock()
		if req.URL.Path == "/drop" {
			return false // received, then the connection breaks without an answer
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	_, front := edgeFront(t, addr, Options{})
	for _, tc := range []struct {
		req  string
		want int
	}{
		{"POST /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 1},
		{"POST /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 1},
		{"PATCH /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 1},
		{"DELETE /drop HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n", 2},
	} {
		method, _, _ := strings.Cut(tc.req, " ")
		mu.Lock()
		clear(count)
		mu.Unlock()
		res := ask(t, front, "GET /warm HTTP/1.1\r\nHost: x\r\n\r\n"+tc.req, method, 2)
		if len(res) != 2 || res[1].status != http.StatusBadGateway {
			t.Errorf("%s /drop: got %v, want 200 then 502", method, res)
		}
		mu.Lock()
		if n := count[method+" /drop"]; n != tc.want {
			t.Errorf("%s /drop reached the backend %d times, want %d", method, n, tc.want)
		}
		mu.Unlock()
	}
}

// TestEdgeExpiredPooledConnection: uvicorn closes idle connections after 5 s; a POST 6 s
// after the last request must not be sent on such a connection.
func TestEdgeExpiredPooledConnection(t *testing.T) {
	t.Parallel()
	be := startPy(t, "uvicorn", 1)
	p, front := edgeFront(t, be.addr, Options{})
	if res := ask(t, front, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1); len(res) != 1 || res[0].status != 200 {
		t.Fatalf("GET /first: %v", res)
	}
	time.Sleep(6 * time.Second) // what is tested is the passing of uvicorn's keep-alive time
	res := ask(t, front, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST", 1)
	if len(res) != 1 || res[0].body != "POST /echo 3 host=x" {
		t.Errorf("a POST after uvicorn's keep-alive time got %v", res)
	}
	if m := eventually(p, "r1", 2); m.Errors != 0 {
		t.Errorf("%d errors", m.Errors)
	}
}

// TestEdgeHeaderLimits: a request head over 1 MiB is refused with 431; a backend that
// streams header lines without end gets a 502 while the proxy's memory stays bounded.
func TestEdgeHeaderLimits(t *testing.T) {
	var sent atomic.Int64
	addr := rawBackend(t, func(c net.Conn, req *http.Request, _ []byte) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Endless: " + strings.Repeat("a", 1000) + "\r\n"
		for {
			n, err := io.WriteString(c, line)
			sent.Add(int64(n))
			if err != nil {
				return false
			}
		}
	})
	p, front := edgeFront(t, addr, Options{})
	res, closed := exchange(t, front, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 2<<20)+"\r\n\r\n", "GET", 1)
	if len(res) != 1 || res[0].status != http.StatusRequestHeaderFieldsTooLarge || !closed {
		t.Errorf("a 2 MiB request head got %v (closed %v), want 431", res, closed)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res = ask(t, front, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
	runtime.ReadMemStats(&after)
	if len(res) != 1 || res[0].status != http.StatusBadGateway {
		t.Errorf("endless response headers got %v, want 502", res)
	}
	if sent.Load() < maxResponseHeaderBytes {
		t.Errorf("the backend sent only %d bytes of headers", sent.Load())
	}
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 64<<20 {
		t.Errorf("the proxy allocated %d MiB while reading endless headers", grew>>20)
	}
	if m := eventually(p, "r1", 1); m.Errors != 1 {
		t.Errorf("metrics: %d errors, want the 502", m.Errors)
	}
}

// TestEdgeInvalidResponses: a response the proxy cannot pass on faithfully is a 502.
func TestEdgeInvalidResponses(t *testing.T) {
	heads := map[string]string{
		"/000":    "HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok",
		"/099":    "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok",
		"/600":    "HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok",
		"/space":  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Bad : v\r\n\r\nok",
		"/cl":     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"/nocode": "HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\nok",
		"/http2":  "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}
	addr := rawBackend(t, func(c net.Conn, req *http.Request, _ []byte) bool {
		io.WriteString(c, heads[req.URL.Path])
		return false
	})
	_, front := edgeFront(t, addr, Options{})
	for path := range heads {
		res := ask(t, front, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
		if len(res) != 1 || res[0].status != http.StatusBadGateway {
			t.Errorf("%s: got %v, want 502", path, res)
		}
	}
}

// TestEdgeHost: invalid or missing Host fields are refused; the Host reaches the app as sent,
// for a POST too.
func TestEdgeHost(t *testing.T) {
	for _, kind := range pyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			be := startPy(t, kind, 2)
			_, front := edgeFront(t, be.addr, Options{})
			for _, tc := range []struct{ name, req string }{
				{"no Host", "GET /nohost HTTP/1.1\r\n\r\n"},
				{"space in Host", "GET /bad HTTP/1.1\r\nHost: a b\r\n\r\n"},
				{"two Hosts", "GET /two HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
				{"absolute form without Host", "GET http://a.example/abs HTTP/1.1\r\n\r\n"},
				{"control character", "GET /ctl HTTP/1.1\r\nHost: a\x01b\r\n\r\n"},
			} {
				res, closed := exchange(t, front, tc.req, "GET", 1)
				if len(res) != 1 || res[0].status != http.StatusBadRequest || !closed {
					t.Errorf("%s: got %v (closed %v), want 400", tc.name, res, closed)
				}
			}
			for _, m := range []string{"GET", "POST", "PUT"} {
				res := ask(t, front, m+" /echo HTTP/1.1\r\nHost: shop.example:8080\r\nContent-Length: 2\r\n\r\nhi", m, 1)
				if want := m + " /echo 2 host=shop.example:8080"; len(res) != 1 || res[0].body != want {
					t.Errorf("%s: the app answered %v, want %q", m, res, want)
				}
			}
			if l := be.seen(t); len(l) != 3 {
				t.Errorf("the app saw %v, want only the three /echo requests", l)
			}
		})
	}
}

// TestEdgeSmallerProblems: request trailers are not forwarded; an HTTP/1.0 client gets no
// 100 Continue.
func TestEdgeSmallerProblems(t *testing.T) {
	var mu sync.Mutex
	var trailers []http.Header
	addr := rawBackend(t, func(c net.Conn, req *http.Request, body []byte) bool {
		mu.Lock()
		trailers = append(trailers, req.Trailer)
		mu.Unlock()
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return true
	})
	_, front := edgeFront(t, addr, Options{})
	res := ask(t, front, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"+chunk("abc")+"0\r\nContent-Length: 99\r\nX-Trailer: 1\r\n\r\n", "POST", 1)
	mu.Lock()
	if len(res) != 1 || res[0].body != "abc" || len(trailers) != 1 || len(trailers[0]) != 0 {
		t.Errorf("a request with trailers: got %v, the backend saw trailers %v", res, trailers)
	}
	mu.Unlock()
	// A framing field declared as a trailer is refused by net/http's parser.
	res = ask(t, front, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n"+chunk("abc")+"0\r\nContent-Length: 99\r\n\r\n", "POST", 1)
	if len(res) != 1 || res[0].status != http.StatusBadRequest {
		t.Errorf("Trailer: Content-Length got %v, want 400", res)
	}
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// Were a 100 Continue sent, it would come before the final response.
	io.WriteString(c, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
	resp, err := http.ReadResponse(bufioReader(c), nil)
	if err != nil || resp.StatusCode == http.StatusContinue {
		t.Errorf("an HTTP/1.0 client with Expect: 100-continue got %v (%v)", resp, err)
	}
}

// TestEdgeClientErrorsAreNotTheRelease: errors a client causes are 4xx, counted as refused,
// never as the release's 5xx; a canary cannot be failed by sending bad framing.
func TestEdgeClientErrorsAreNotTheRelease(t *testing.T) {
	p, front := edgeFront(t, backendServer(t, "r1").Listener.Addr().String(), Options{})
	for range 5 {
		res := ask(t, front, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n", "POST", 1)
		if len(res) != 1 || res[0].status != http.StatusBadRequest {
			t.Errorf("bad chunk framing: %v, want 400", res)
		}
	}
	for range 100 {
		ask(t, front, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 1)
	}
	m := eventually(p, "r1", 100)
	if m.Requests != 100 || m.Errors != 0 || m.Refused != 5 {
		t.Errorf("metrics: %d requests, %d errors, %d refused; want 100, 0, 5", m.Requests, m.Errors, m.Refused)
	}
	c := rollout.CanaryConfig{MinRequests: 100, MaxErrorRate: 0.01, MaxLatencyRatio: 10}
	if v := rollout.Judge(c, m, m); v.Outcome != rollout.Pass {
		t.Errorf("a canary that clients sent bad framing to: %s (%s)", v.Outcome, v.Reason)
	}
	var sb strings.Builder
	p.WriteMetrics(&sb, "")
	for _, want := range []string{`pyship_proxy_refused_total{release="r1",code="400"} 5`, `pyship_requests_total{release="r1",code="200"} 100`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}
