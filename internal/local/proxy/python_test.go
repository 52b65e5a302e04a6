package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
)

// TestPythonHTTP10Backend: Python's http.server answers HTTP/1.0 and closes every connection
// (its default); the proxy must serve continuous traffic to it without a single failure.
func TestPythonHTTP10Backend(t *testing.T) {
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, py, "-c", fmt.Sprintf(`
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from python"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", %d), H).serve_forever()
`, port))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Wait()
	defer cancel()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("python backend did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	p := New(Options{})
	p.AddBackend("py-1", "r1", addr)
	if err := p.SetWeights(map[string]int{"r1": 100}); err != nil {
		t.Fatal(err)
	}
	url := front(t, p)
	var ok, failed atomic.Int64
	var mu sync.Mutex
	errs := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for ok.Load()+failed.Load() < 1500 {
				resp, err := c.Get(url + "/")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 && string(b) == "hello from python" {
						ok.Add(1)
						continue
					}
					err = fmt.Errorf("status %d body %q", resp.StatusCode, b)
				}
				failed.Add(1)
				mu.Lock()
				errs[err.Error()]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests through the proxy failed: %v", failed.Load(), ok.Load()+failed.Load(), errs)
	}
}
