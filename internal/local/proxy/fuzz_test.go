package proxy

import (
	"bufio"
	"bytes"
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

// FuzzRequestFraming feeds the same bytes to net/http's parser and, over TCP, to the proxy in
// front of a recording backend. Every request the backend gets must be, in order, one that
// net/http's parser read from the bytes (method, target, Host, body, end-to-end fields): the
// proxy never forwards a request the reference did not see, nor a different one.
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
	var mu sync.Mutex
	var got []seen
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Host, string(body), r.Header})
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer be.Close()
	p := New(Options{})
	p.AddBackend("b1", "r1", be.Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: time.Second, MaxHeaderBytes: maxHeaderBytes}
	go srv.Serve(ln)
	defer srv.Close()

	f.Fuzz(func(t *testing.T, data []byte) {
		mu.Lock()
		got = nil
		mu.Unlock()
		ref := referenceParse(data)
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		go c.Write(data)
		// Read answers until the proxy closes or is quiet for a while: by then every request
		// the proxy was going to forward has reached the backend.
		br := bufio.NewReader(c)
		for {
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				break
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		c.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(got) > len(ref) {
			t.Fatalf("the backend got %d requests where net/http reads %d:\n%v\nreference %v", len(got), len(ref), got, ref)
		}
		for i, g := range got {
			r := ref[i]
			if r.host == "" { // HTTP/1.0 without Host: the backend gets its own address
				r.host = be.Listener.Addr().String()
			}
			if g.method != r.method || g.uri != r.uri || g.host != r.host || g.body != r.body {
				t.Fatalf("request %d reached the backend as %q %q host %q body %q; net/http read %q %q host %q body %q",
					i, g.method, g.uri, g.host, g.body, r.method, r.uri, r.host, r.body)
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
