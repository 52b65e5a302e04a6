package proxy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// askWith sends one request with extra header lines to addr and returns its status and body.
func askWith(t *testing.T, addr, path, host, extra string) rawResp {
	t.Helper()
	res := ask(t, addr, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n"+extra+"Connection: close\r\n\r\n", "GET", 1)
	if len(res) != 1 {
		t.Fatalf("GET %s: no response", path)
	}
	return res[0]
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return "Authorization: " + r.Header.Get("Authorization") + "\r\n"
}

func TestAccessRules(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := ParseUsers("alice:" + string(hash))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		access Access
		check  func(t *testing.T, addr string)
	}{
		{"hosts", Access{Hosts: []string{"shop.example", "WWW.shop.example"}}, func(t *testing.T, addr string) {
			for host, want := range map[string]int{"shop.example": 200, "shop.example:8080": 200, "www.shop.example": 200, "SHOP.example.": 200, "other.example": 404, "127.0.0.1": 404} {
				if r := askWith(t, addr, "/", host, ""); r.status != want {
					t.Errorf("Host %s: %d, want %d", host, r.status, want)
				}
			}
		}},
		{"allow", Access{Allow: []string{"10.0.0.0/8", "192.0.2.7"}}, func(t *testing.T, addr string) {
			if r := askWith(t, addr, "/", "x", ""); r.status != http.StatusForbidden {
				t.Errorf("a client from 127.0.0.1 outside the allowlist got %d, want 403", r.status)
			}
		}},
		{"allow loopback", Access{Allow: []string{"127.0.0.0/8"}}, func(t *testing.T, addr string) {
			if r := askWith(t, addr, "/", "x", ""); r.status != 200 {
				t.Errorf("a client inside the allowlist got %d", r.status)
			}
		}},
		{"rate limit", Access{RateLimit: 2}, func(t *testing.T, addr string) {
			codes := map[int]int{}
			start := time.Now()
			for range 20 {
				codes[askWith(t, addr, "/", "x", "").status]++
			}
			// A burst of 2, plus what refills (2/s) while the 20 requests run.
			allowed := 2 + int(2*time.Since(start).Seconds()+1)
			if codes[200] < 2 || codes[200] > allowed || codes[200]+codes[429] != 20 {
				t.Errorf("20 requests in %s at 2/s got %v, want 2 to %d answered and the rest 429", time.Since(start), codes, allowed)
			}
		}},
		{"basic auth", Access{Users: users}, func(t *testing.T, addr string) {
			r := askWith(t, addr, "/", "x", "")
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("no credentials: %d %v", r.status, r.header)
			}
			for _, cred := range []string{basic("alice", "wrong"), basic("bob", "s3cret"), "Authorization: Bearer x\r\n"} {
				if r := askWith(t, addr, "/", "x", cred); r.status != http.StatusUnauthorized {
					t.Errorf("%q: %d, want 401", cred, r.status)
				}
			}
			for range 3 { // the second and third are checked from the cache
				if r := askWith(t, addr, "/", "x", basic("alice", "s3cret")); r.status != 200 || r.body != "r1" {
					t.Errorf("alice: %d %q", r.status, r.body)
				}
			}
		}},
		{"closed", Access{Closed: true}, func(t *testing.T, addr string) {
			if r := askWith(t, addr, "/", "x", ""); r.status != http.StatusForbidden {
				t.Errorf("closed: %d, want 403", r.status)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, addr := edgeFront(t, backendServer(t, "r1").Listener.Addr().String(), Options{Access: tc.access})
			tc.check(t, addr)
			m := p.Metrics("r1")
			if m.Errors != 0 {
				t.Errorf("refusals counted as %d errors", m.Errors)
			}
		})
	}
}

func TestAccessRefusalsAreCountedApart(t *testing.T) {
	p, addr := edgeFront(t, backendServer(t, "r1").Listener.Addr().String(), Options{Access: Access{Hosts: []string{"shop.example"}}})
	askWith(t, addr, "/", "shop.example", "")
	askWith(t, addr, "/", "evil.example", "")
	var sb strings.Builder
	p.WriteMetrics(&sb, "")
	for _, want := range []string{`pyship_proxy_refused_total{release="",code="404"} 1`, `pyship_requests_total{release="r1",code="200"} 1`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}

func TestInvalidAccessRulesCloseTheApp(t *testing.T) {
	p, addr := edgeFront(t, backendServer(t, "r1").Listener.Addr().String(), Options{})
	if err := p.Reconfigure(Options{Access: Access{Allow: []string{"not-a-network"}}}); err == nil {
		t.Fatal("an invalid allowlist was accepted")
	}
	if r := askWith(t, addr, "/", "x", ""); r.status != http.StatusForbidden {
		t.Errorf("after invalid access rules: %d, want 403", r.status)
	}
	if _, err := ParseUsers("alice:plaintext"); err == nil || strings.Contains(err.Error(), "plaintext") {
		t.Errorf("a plaintext password: %v (must be refused without quoting it)", err)
	}
}

// TestHostRouting: two apps share one port by host name (any case, with port or trailing
// dot); an unknown or removed host gets pyship's 404; a host cannot be two apps'.
func TestHostRouting(t *testing.T) {
	e := NewEdge(EdgeOptions{})
	addEdgeApp(t, e, "shop", EdgeApp{Hosts: []string{"shop.example"}})
	addEdgeApp(t, e, "blog", EdgeApp{Hosts: []string{"Blog.Example"}})
	addr := frontHandler(t, e.HTTPHandler())
	for host, want := range map[string]string{"shop.example": "shop", "blog.example:80": "blog", "BLOG.example.": "blog"} {
		if r := askWith(t, addr, "/", host, ""); r.status != 200 || r.body != want {
			t.Errorf("Host %s: %d %q, want %s", host, r.status, r.body, want)
		}
	}
	if r := askWith(t, addr, "/", "unknown.example", ""); r.status != http.StatusNotFound || !strings.Contains(r.body, "pyship") {
		t.Errorf("unknown host: %d %q, want pyship's 404", r.status, r.body)
	}
	if err := e.SetApp("shop", EdgeApp{Hosts: []string{"shop.example", "blog.example"}}); err == nil || !strings.Contains(err.Error(), "blog") {
		t.Errorf("taking another app's host: %v", err)
	}
	if r := askWith(t, addr, "/", "shop.example", ""); r.status != 200 || r.body != "shop" {
		t.Errorf("after a refused change: %d %q, want shop unchanged", r.status, r.body)
	}
	e.RemoveApp("blog")
	if r := askWith(t, addr, "/", "blog.example", ""); r.status != http.StatusNotFound {
		t.Errorf("a removed host: %d, want 404", r.status)
	}
}

// frontHandler serves h with the edge's limits on a new listener until the test ends.
func frontHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveEdge(ctx, ln, h, nil, func() time.Duration { return time.Second }, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}
