package proxy

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The control API drives a proxy serving in RunProcess the way the agent does, over a unix
// socket.
func TestRunProcessControl(t *testing.T) {
	v1, v2 := backendServer(t, "v1"), backendServer(t, "v2")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	done := make(chan error, 1)
	go func() { done <- RunProcess(context.Background(), ln, sock, Options{}) }()
	c := NewClient(sock)
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.State(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the control socket never answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := get(t, http.DefaultClient, url); code != http.StatusServiceUnavailable {
		t.Errorf("with no backend: %d, want 503", code)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Reconfigure(ctx, ControlOptions{RequestTimeout: time.Second, DrainTimeout: 2 * time.Second}))
	must(c.AddBackend(ctx, "a", "r1", strings.TrimPrefix(v1.URL, "http://")))
	must(c.AddBackend(ctx, "b", "r2", strings.TrimPrefix(v2.URL, "http://")))
	must(c.SetWeights(ctx, map[string]int{"r1": 100}))
	for range 5 {
		if _, body := get(t, http.DefaultClient, url); body != "v1" {
			t.Fatalf("weights r1=100 answered %q", body)
		}
	}
	if err := c.SetWeights(ctx, map[string]int{"r1": 60}); err == nil || !strings.Contains(err.Error(), "add up to 60") {
		t.Errorf("bad weights: %v", err)
	}
	must(c.SetWeights(ctx, map[string]int{"r2": 100}))
	if _, body := get(t, http.DefaultClient, url); body != "v2" {
		t.Errorf("after the switch: %q", body)
	}
	st, err := c.State(ctx)
	must(err)
	if st.Weights["r2"] != 100 || len(st.Backends["r1"]) != 1 || len(st.Backends["r2"]) != 1 {
		t.Errorf("state = %+v", st)
	}
	m, err := c.Metrics(ctx, "r1")
	must(err)
	if m.Requests != 5 || m.Errors != 0 || len(m.Counts) == 0 {
		t.Errorf("metrics of r1 = %+v, want 5 requests", m)
	}
	var prom strings.Builder
	must(c.WriteMetrics(ctx, &prom, `app="x"`))
	if !strings.Contains(prom.String(), `pyship_requests_total{app="x",release="r1",code="200"} 5`) {
		t.Errorf("metrics text:\n%s", prom.String())
	}
	if n, err := c.RemoveBackend(ctx, "b"); err != nil || n != 0 {
		t.Errorf("RemoveBackend = %d, %v", n, err)
	}
	must(c.Shutdown(ctx))
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunProcess: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunProcess did not return after Shutdown")
	}
	if _, err := http.Get(url); err == nil {
		t.Error("the public port still answers after Shutdown")
	}
}
