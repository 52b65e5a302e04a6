package sidecar

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/testsvc"
)

// pythonApp starts a real Python HTTP server on a test port: / answers 200, /fail 503 and
// /slow 200 after a second (creating the file slow, which it returns, when it starts on it).
// It returns its address.
func pythonApp(t *testing.T) (addr, slow string) {
	t.Helper()
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	addr = fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t))
	slow = filepath.Join(t.TempDir(), "slow-started")
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithCancel(context.Background())
	srv := exec.CommandContext(ctx, py, "-c", `
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/slow":
            open(sys.argv[2], "w").close()
            time.sleep(1)
        code = 503 if self.path == "/fail" else 200
        body = b"hello from python"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
`, port, slow)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Wait() })
	testsvc.Eventually(t, 20*time.Second, "the python app to listen on "+addr, func() error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	return addr, slow
}

// sidecar runs Run in front of backend on test ports and returns the proxy's and the metrics'
// base URLs, the cancel that stops it and the channel Run's result arrives on.
func sidecar(t *testing.T, backend string) (string, string, context.CancelFunc, <-chan error) {
	t.Helper()
	serve, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t)))
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, serve, metrics, Options{App: "shop", Release: "r1a2b3c4", Version: "v1", Strategy: "rolling", Backend: backend, DrainTimeout: 10 * time.Second})
		close(done) // the cleanup's receive returns after the test's
	}()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + serve.Addr().String(), "http://" + metrics.Addr().String(), cancel, done
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, string(b)
}

// TestSidecarCountsTheAppsResponsesPerRelease: requests through the sidecar reach the real
// Python app, and /metrics counts them with the app and release labels, 5xx apart, in the
// latency histogram, with pyship_release_info; the real Prometheus scrapes and parses it.
func TestSidecarCountsTheAppsResponsesPerRelease(t *testing.T) {
	app, _ := pythonApp(t)
	front, metrics, _, _ := sidecar(t, app)
	for i := range 10 {
		path := "/"
		if i%4 == 3 {
			path = "/fail"
		}
		code, body := get(t, front+path)
		if body != "hello from python" || (code == 503) != (path == "/fail") {
			t.Fatalf("GET %s through the sidecar: %d %q", path, code, body)
		}
	}
	code, text := get(t, metrics+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`pyship_requests_total{app="shop",release="r1a2b3c4",code="200"} 8`,
		`pyship_requests_total{app="shop",release="r1a2b3c4",code="503"} 2`,
		`pyship_request_duration_seconds_count{app="shop",release="r1a2b3c4"} 10`,
		`pyship_request_duration_seconds_bucket{app="shop",release="r1a2b3c4",le="+Inf"} 10`,
		`pyship_release_info{app="shop",release="r1a2b3c4",version="v1",strategy="rolling"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", want, text)
		}
	}
	if code, _ := get(t, metrics+"/healthz"); code != 200 {
		t.Errorf("/healthz while serving: %d, want 200", code)
	}
	if code, _ := get(t, front+"/metrics"); code != 200 {
		t.Errorf("/metrics on the serving port is the app's path, not the sidecar's: got %d", code)
	}

	if testing.Short() {
		return
	}
	// The real Prometheus scrapes the sidecar, labelled with a namespace as the ServiceMonitor
	// does, and the canary analysis's reader finds the release's requests and errors.
	ns := fmt.Sprintf("sidecar-%d", time.Now().UnixNano())
	promURL, _ := testsvc.Scrape(t, strings.TrimPrefix(metrics, "http://"), "namespace", ns)
	pc, err := promql.New(promURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	reader := &kube.Prometheus{Client: pc, Namespace: ns, App: "shop", Sidecar: true}
	testsvc.Eventually(t, time.Minute, "the canary reader to see the sidecar's series in Prometheus", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := reader.Metrics(ctx, "r1a2b3c4")
		if err != nil {
			return err
		}
		// The 10 above and the GET /metrics through the sidecar, 2 of them 503.
		if m.Requests != 11 || m.Errors != 2 || len(m.Counts) == 0 || m.Counts[len(m.Counts)-1] != 11 {
			return fmt.Errorf("release metrics %+v, want 11 requests, 2 errors", m)
		}
		return nil
	})
}

// TestSidecarDrainsInFlightRequestsWhenStopped: told to stop (SIGTERM in the pod), the sidecar
// reports itself unready, finishes the request in flight and returns.
func TestSidecarDrainsInFlightRequestsWhenStopped(t *testing.T) {
	app, slow := pythonApp(t)
	front, metrics, stop, done := sidecar(t, app)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(front + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	testsvc.Eventually(t, 10*time.Second, "the slow request to reach the app", func() error {
		_, err := os.Stat(slow)
		return err
	})
	stop()
	testsvc.Eventually(t, 5*time.Second, "/healthz to answer 503 while draining", func() error {
		resp, err := http.Get(metrics + "/healthz")
		if err != nil {
			return nil // already shut: drained
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	if r := <-got; r != "200 hello from python" {
		t.Errorf("the request in flight when the sidecar was stopped got %q, want 200 from the app", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after a drain: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the sidecar did not return after draining")
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(front, "http://"), time.Second); err == nil {
		t.Error("the sidecar still accepts connections after stopping")
	}
}

// TestSidecarRefusesMissingLabels: a sidecar without its release would count under nothing.
func TestSidecarRefusesMissingLabels(t *testing.T) {
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	err := Run(context.Background(), ln1, ln2, Options{App: "shop", Backend: "127.0.0.1:8000"})
	if err == nil || !strings.Contains(err.Error(), "--release is empty") {
		t.Errorf("Run without a release: %v, want an error naming --release", err)
	}
	ln1, _ = net.Listen("tcp", "127.0.0.1:0")
	ln2, _ = net.Listen("tcp", "127.0.0.1:0")
	err = Run(context.Background(), ln1, ln2, Options{App: "shop", Release: "r1", Backend: "8000"})
	if err == nil || !strings.Contains(err.Error(), "--backend") {
		t.Errorf("Run with a backend without host: %v, want an error naming --backend", err)
	}
}
