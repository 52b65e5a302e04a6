package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is a request as an HTTP/1.1 parser understood it.
type seen struct {
	method, uri, host string
	body              string
	header            http.Header
}

// referenceParse is what net/http's own parser reads from data, in order, up to the first
// request it rejects (or whose body it cannot read).
func referenceParse(data []byte) []seen {
	br := bufio.NewReader(bytes.NewReader(data))
	var out []seen
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return out
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return out
		}
		out = append(out, seen{req.Method, req.URL.RequestURI(), req.Host, string(body), req.Header})
	}
}

// endToEnd are the fields a proxy passes on unchanged: not hop-by-hop, not framing, not the
// ones it sets itself.
func endToEnd(h http.Header) http.Header {
	out := http.Header{}
	named := map[string]bool{}
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			named[http.CanonicalHeaderKey(strings.TrimSpace(tok))] = true
		}
	}
	for k, v := range h {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer",
			"Transfer-Encoding", "Upgrade", "Content-Length", "Expect", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "User-Agent":
			continue
		}
		if !named[k] {
			out[k] = v
		}
	}
	return out
}

// FuzzRequestFraming feeds the same bytes to net/http's parser (http.ReadRequest), to a plain
// net/http server and, over TCP, to the proxy in front of a recording backend. Every request
// the backend gets must be, in order, one that the parser read from the bytes (method,
// target, Host, body, end-to-end fields) and one the plain server handed its handler: the
// proxy never forwards a request the references did not see, nor a different one.
func FuzzRequestFraming(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: y\r\nX-A: 1\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n" + smuggled,
		"GET http://h.example/abs HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := referenceParse(data)
		// Servers of their own for each input, shut down (their handlers finished) before the
		// lists are read: nothing of one input can be counted in another's.
		backend, plain := &recorder{}, &recorder{}
		be := httptest.NewServer(backend)
		defer be.Close()
		p := New(Options{})
		p.AddBackend("b1", "r1", be.Listener.Addr().String())
		p.SetWeights(map[string]int{"r1": 100})
		feed(t, p, data)
		feed(t, plain, data) // net/http's server itself, as the reference for what it hands on
		got, byServer := backend.list(), plain.list()
		// The proxy refuses more than net/http's server (CONNECT, a connection after a chunked
		// request), never less: what reached the backend is a prefix of what the server took.
		if len(got) > len(byServer) {
			t.Fatalf("the backend got %d requests where net/http's server takes %d:\n%v\nserver %v", len(got), len(byServer), got, byServer)
		}
		for i, g := range got {
			if d := differs(g, byServer[i], be.Listener.Addr().String()); d != "" {
				t.Fatalf("request %d: %s net/http's server took", i, d)
			}
		}
		if len(got) > len(ref) {
			t.Fatalf("the backend got %d requests where net/http reads %d:\n%v\nreference %v", len(got), len(ref), got, ref)
		}
		for i, g := range got {
			r := ref[i]
			if d := differs(g, r, be.Listener.Addr().String()); d != "" {
				t.Fatalf("request %d: %s net/http's parser read", i, d)
			}
			want, have := endToEnd(r.header), endToEnd(g.header)
			for k, v := range want {
				if !slices.Equal(have[k], v) {
					t.Fatalf("request %d: field %s reached the backend as %q, net/http read %q", i, k, have[k], v)
				}
			}
			for k := range have {
				if _, ok := want[k]; !ok {
					t.Fatalf("request %d: field %s reached the backend but was not sent", i, k)
				}
			}
		}
	})
}

// recorder is a handler that notes the requests it gets (with their whole bodies).
type recorder struct {
	mu  sync.Mutex
	got []seen
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	rec.mu.Lock()
	rec.got = append(rec.got, seen{r.Method, r.URL.RequestURI(), r.Host, string(body), r.Header})
	rec.mu.Unlock()
	io.WriteString(w, "ok")
}

func (rec *recorder) list() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.got)
}

// feed serves h with the edge's header limits, writes data to it and reads answers until it
// closes or is quiet for a while, then shuts it down, which waits for its handlers.
func feed(t *testing.T, h http.Handler, data []byte) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second, MaxHeaderBytes: maxHeaderBytes}
	go srv.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	go c.Write(data)
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("the server did not finish its requests: %v", err)
	}
}

// differs says how g, as a backend got it, differs from r, as a reference read it ("" when
// it does not); an HTTP/1.0 request without Host reaches the backend with beAddr as Host.
func differs(g, r seen, beAddr string) string {
	if r.host == "" {
		r.host = beAddr
	}
	if g.method == r.method && g.uri == r.uri && g.host == r.host && g.body == r.body {
		return ""
	}
	return fmt.Sprintf("the backend got %q %q host %q body %q, not the %q %q host %q body %q", g.method, g.uri, g.host, g.body, r.method, r.uri, r.host, r.body)
}
