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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

func backendServer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		if r.URL.Path == "/headers" {
			fmt.Fprintf(w, "%s|%s|%s|%s", r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Host)
			return
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func front(t *testing.T, p *Proxy) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWeightedRouting(t *testing.T) {
	p := New(Options{})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.AddBackend("b1", "r2", backendServer(t, "r2").Listener.Addr().String())
	if err := p.SetWeights(map[string]int{"r1": 80, "r2": 20}); err != nil {
		t.Fatal(err)
	}
	url := front(t, p)
	count := map[string]int{}
	for range 1000 {
		_, body := get(t, http.DefaultClient, url+"/")
		count[body]++
	}
	if count["r2"] < 120 || count["r2"] > 280 {
		t.Errorf("r2 got %d of 1000 requests at weight 20, want about 200", count["r2"])
	}
	if m := eventually(p, "r2", int64(count["r2"])); m.Requests != int64(count["r2"]) {
		t.Errorf("metrics count %d requests for r2, responses say %d", m.Requests, count["r2"])
	}
	if err := p.SetWeights(map[string]int{"r1": 80, "r2": 30}); err == nil {
		t.Error("weights summing to 110 were accepted")
	}
}

func TestSwitchUnderLoadDropsNothing(t *testing.T) {
	p := New(Options{DrainTimeout: 5 * time.Second})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.AddBackend("a2", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var seen sync.Map
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := http.Get(url + "/")
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				seen.Store(string(b), true)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // let load build; not synchronisation
	b2 := backendServer(t, "r2")
	p.AddBackend("b1", "r2", b2.Listener.Addr().String())
	p.SetWeights(map[string]int{"r2": 100})
	p.RemoveBackend(ctx, "a1")
	p.RemoveBackend(ctx, "a2")
	deadline := time.Now().Add(5 * time.Second)
	before := ok.Load()
	for ok.Load() < before+200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the switch (%d succeeded)", failed.Load(), ok.Load())
	}
	_, body := get(t, http.DefaultClient, url+"/")
	if body != "r2" {
		t.Errorf("after the switch got %q, want r2", body)
	}
}

func TestDrainWaitsForInflight(t *testing.T) {
	p := New(Options{DrainTimeout: 5 * time.Second})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	res := make(chan int, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
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
	for b.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if left := p.RemoveBackend(context.Background(), "a1"); left != 0 {
		t.Errorf("%d requests left after drain", left)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Errorf("drain returned after %s, before the slow request finished", time.Since(start))
	}
	if code := <-res; code != 200 {
		t.Errorf("in-flight request got %d, want 200", code)
	}
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("with no backends got %d with Retry-After %q, want 503 with 5", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestRetriesDeadBackend(t *testing.T) {
	p := New(Options{})
	dead := backendServer(t, "dead")
	addr := dead.Listener.Addr().String()
	dead.Close()
	p.AddBackend("a0", "r1", addr)
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	for range 20 {
		if code, body := get(t, http.DefaultClient, url+"/"); code != 200 || body != "r1" {
			t.Fatalf("got %d %q, want the live backend's answer", code, body)
		}
	}
}

func TestForwardedHeadersAndMetrics(t *testing.T) {
	p := New(Options{})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	req, _ := http.NewRequest("GET", url+"/headers", nil)
	req.Host = "shop.example"
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(b); got != "10.0.0.1, 127.0.0.1|shop.example|http|shop.example" {
		t.Errorf("backend saw %q", got)
	}
	get(t, http.DefaultClient, url+"/fail")
	eventually(p, "r1", 2)
	var sb strings.Builder
	p.WriteMetrics(&sb, `app="shop"`)
	for _, want := range []string{`pyship_requests_total{app="shop",release="r1",code="500"} 1`, `pyship_request_duration_seconds_count{app="shop",release="r1"} 2`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
	if m := eventually(p, "r1", 2); m.Errors != 1 || m.Requests != 2 {
		t.Errorf("metrics = %d requests, %d errors; want 2 and 1", m.Requests, m.Errors)
	}
}

func TestStickyCookie(t *testing.T) {
	p := New(Options{StickyCookie: "pyship_release"})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.AddBackend("b1", "r2", backendServer(t, "r2").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 50, "r2": 50})
	url := front(t, p)
	req, _ := http.NewRequest("GET", url+"/", nil)
	req.AddCookie(&http.Cookie{Name: "pyship_release", Value: "r2"})
	for range 30 {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "r2" {
			t.Fatalf("sticky client got %q, want r2", b)
		}
	}
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) == 0 || resp.Cookies()[0].Name != "pyship_release" {
		t.Errorf("a new client got no sticky cookie: %v", resp.Header)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			w.WriteHeader(400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	}))
	defer ws.Close()
	p := New(Options{})
	p.AddBackend("a1", "r1", ws.Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprintf(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo hello\n" {
		t.Errorf("through the upgraded connection got %q, %v", line, err)
	}
}

// eventually waits until release has n requests counted (metrics are recorded just after the
// response is written) and returns its metrics.
func eventually(p *Proxy, release string, n int64) rollout.Metrics {
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := p.Metrics(release)
		if m.Requests >= n || time.Now().After(deadline) {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPooledConnectionClosedByBackend(t *testing.T) {
	be := backendServer(t, "r1")
	p := New(Options{})
	p.AddBackend("a1", "r1", be.Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	for range 5 {
		if code, body := get(t, http.DefaultClient, url+"/"); code != 200 || body != "r1" {
			t.Fatalf("got %d %q", code, body)
		}
		// The backend drops its keep-alive connections, as a restarting server does.
		be.CloseClientConnections()
	}
	if m := eventually(p, "r1", 5); m.Errors != 0 {
		t.Errorf("%d errors after the backend closed idle connections", m.Errors)
	}
}

func TestReconfigure(t *testing.T) {
	p := New(Options{})
	p.AddBackend("a1", "r1", backendServer(t, "r1").Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
	url := front(t, p)
	cookies := func() []*http.Cookie {
		resp, err := http.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Cookies()
	}
	if c := cookies(); len(c) != 0 {
		t.Fatalf("no sticky cookie configured, got %v", c)
	}
	if code, _ := get(t, http.DefaultClient, url+"/slow"); code != 200 {
		t.Fatalf("/slow under the default timeout answered %d", code)
	}
	p.Reconfigure(Options{StickyCookie: "pyship_release", RequestTimeout: 100 * time.Millisecond})
	if c := cookies(); len(c) != 1 || c[0].Name != "pyship_release" || c[0].Value != "r1" {
		t.Errorf("after Reconfigure the cookies are %v, want pyship_release=r1", c)
	}
	if code, _ := get(t, http.DefaultClient, url+"/slow"); code != http.StatusGatewayTimeout {
		t.Errorf("/slow (300ms) with a 100ms request timeout answered %d, want 504", code)
	}
}
