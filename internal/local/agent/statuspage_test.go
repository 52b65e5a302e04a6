package agent

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/clock"
)

func TestStatusPageHeadersAndGuards(t *testing.T) {
	a := &Agent{Clock: clock.Real{}}
	srv := httptest.NewServer(a.adminHandler())
	defer srv.Close()
	for _, path := range []string{"/status", "/status/data.json", "/status/assets/status.js", "/status/assets/style.css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
	// Read-only: every other method is refused.
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, srv.URL+"/status/data.json", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /status/data.json: %s, want 405", m, resp.Status)
		}
	}
	// A name of a stranger's that resolves here (DNS rebinding) is refused; IPs and localhost pass.
	for host, want := range map[string]int{"evil.example:9180": 421, "evil.example": 421, "localhost:9180": 200, "127.0.0.1:9180": 200, "[::1]:9180": 200} {
		req, _ := http.NewRequest("GET", srv.URL+"/status/data.json", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %s, want %d", host, resp.Status, want)
		}
	}
}

// The page builds its DOM with textContent only: no API that parses a string as HTML or code.
func TestStatusPageScriptParsesNoHTML(t *testing.T) {
	var sources []string
	err := fs.WalkDir(statusFiles, "statuspage", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(statusFiles, path)
		if strings.HasSuffix(path, ".js") {
			sources = append(sources, string(b))
		}
		if strings.HasSuffix(path, ".html") && (strings.Contains(string(b), "<script>") || strings.Contains(string(b), "style=")) {
			t.Errorf("%s has inline script or style, which the Content-Security-Policy blocks", path)
		}
		return err
	})
	if err != nil || len(sources) == 0 {
		t.Fatalf("reading the embedded page: %v (%d scripts)", err, len(sources))
	}
	for _, src := range sources {
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style\""} {
			if strings.Contains(src, bad) {
				t.Errorf("status.js uses %s", bad)
			}
		}
	}
}
