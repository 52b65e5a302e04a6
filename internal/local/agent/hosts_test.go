package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// sharedEdgePorts gives the agent free ports for its shared edge.
func sharedEdgePorts(t *testing.T) func(*Agent) {
	httpPort, httpsPort := port(t), port(t)
	return func(a *Agent) { a.HTTPPort, a.HTTPSPort = httpPort, httpsPort }
}

func sharedHTTPPort(t *testing.T, ports func(*Agent)) int {
	a := &Agent{}
	ports(a)
	return a.HTTPPort
}

// get fetches url with Host host (following no redirect), returning the status and the body.
func get(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("GET %s for %s: %v", url, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTwoAppsShareTheEdge: two real apps naming hosts share one HTTP port, each chosen by
// Host; an unknown host gets pyship's own 404; neither opens its own port; the edge process
// survives the agent's restart (same pid) and keeps routing; a stopped app's host is 404
// while the other goes on.
func TestTwoAppsShareTheEdge(t *testing.T) {
	home := newHome(t)
	edgePorts := sharedEdgePorts(t)
	c, _, stop := runAgent(t, home, edgePorts)
	url := fmt.Sprintf("http://127.0.0.1:%d/", sharedHTTPPort(t, edgePorts))
	own := map[string]int{}
	for _, name := range []string{"shop", "blog"} {
		own[name] = port(t)
		p := stdlibPlan(stdlibApp(t, ""), name+"1", "rolling", own[name])
		p.Name = name
		p.Deploy.Replicas = 1
		p.Edge = &plan.Edge{Hosts: []string{name + ".localhost", "www." + name + ".localhost"}}
		deploy(t, c, build(t, home, p))
	}
	check := func(when string) {
		t.Helper()
		for host, want := range map[string]string{"shop.localhost": "stdlib shop1\n", "WWW.blog.localhost.": "stdlib blog1\n", "blog.localhost:80": "stdlib blog1\n"} {
			if code, body := get(t, url, host); code != 200 || body != want {
				t.Errorf("%s: Host %s got %d %q, want 200 %q", when, host, code, body, want)
			}
		}
		if code, body := get(t, url, "other.localhost"); code != 404 || !strings.Contains(body, "pyship: no app") {
			t.Errorf("%s: an unknown host got %d %q, want pyship's 404", when, code, body)
		}
	}
	check("after the deploys")
	for name, p := range own {
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second); err == nil {
			conn.Close()
			t.Errorf("%s names hosts, yet its own port %d is open", name, p)
		}
	}
	pidFile := filepath.Join(home, "edge", "proxy.pid")
	before, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}

	// The edge process outlives the agent: a load through it sees no failure across a restart.
	l := startLoadHost(url, "shop.localhost", 4)
	l.waitFor(t, 20)
	stop()
	check("while no agent runs")
	l.waitFor(t, 20)
	c = startAgent(t, home, edgePorts)
	if err := testsvc.Poll(20*time.Second, func() error {
		st, err := c.Status(t.Context(), "blog")
		if err != nil || len(st) != 1 || len(st[0].Releases) == 0 || st[0].Releases[0].Weight != 100 {
			return fmt.Errorf("the restarted agent did not take blog back: %v %+v", err, st)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("after the agent's restart")
	l.waitFor(t, 20)
	l.stop()
	if l.failed.Load() != 0 {
		t.Errorf("%d requests failed across the agent's restart (%d ok): %v", l.failed.Load(), l.ok.Load(), l.errs)
	}
	after, _ := os.ReadFile(pidFile)
	if string(after) != string(before) {
		t.Errorf("the edge process was replaced by the agent's restart: pid %s, then %s", before, after)
	}
	st, err := c.Status(t.Context(), "shop")
	if err != nil || len(st) != 1 || st[0].URL != fmt.Sprintf("http://shop.localhost:%d/", sharedHTTPPort(t, edgePorts)) {
		t.Fatalf("status of shop: %v %+v, want its URL on the shared edge", err, st)
	}
	// The app's metrics come from its proxy inside the edge (the canary analysis reads them).
	if r := st[0].Releases[0]; r.Requests == 0 {
		t.Errorf("status of shop counts no request: %+v", r)
	}
	if _, metrics := httpGet(t, st[0].Metrics); !strings.Contains(metrics, `pyship_requests_total{app="shop",release="r1",code="200"}`) ||
		!strings.Contains(metrics, `pyship_requests_total{app="blog",release="r1",code="200"}`) {
		t.Errorf("/metrics lacks the apps on the shared edge:\n%s", metrics)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Act(ctx, "blog", "stop"); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, url, "blog.localhost"); code != 404 {
		t.Errorf("a stopped app's host got %d, want 404", code)
	}
	if code, body := get(t, url, "shop.localhost"); code != 200 || body != "stdlib shop1\n" {
		t.Errorf("the other app after a stop: %d %q", code, body)
	}

	// An edge process that dies is replaced, and the apps are given to the new one.
	pid, _ := strconv.Atoi(strings.TrimSpace(string(after)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := testsvc.Poll(20*time.Second, func() error {
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "shop.localhost"
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		t.Errorf("the app is not served again after its edge process died: %v", err)
	}
}

// TestAgentServesHTTPSByACME: an app with [edge] tls = "acme" is served over HTTPS with a
// certificate from a real ACME server (Pebble, validating through the agent's shared edge),
// fetched by curl trusting only Pebble's root, with HTTP/2 negotiated; HTTP redirects there.
func TestAgentServesHTTPSByACME(t *testing.T) {
	acme := testsvc.HoldACME(t)
	home := newHome(t)
	c := startAgent(t, home, func(a *Agent) {
		a.HTTPPort, a.HTTPSPort, a.ACMERootCA = acme.HTTPPort, acme.HTTPSPort, acme.CAFile
	})
	p := stdlibPlan(stdlibApp(t, ""), "tls1", "rolling", port(t))
	p.Name = "shop"
	p.Deploy.Replicas = 1
	p.Edge = &plan.Edge{Hosts: []string{"shop.pyship.test"}, TLS: "acme", ACMEDirectory: acme.Directory, HSTS: 300}
	deploy(t, c, build(t, home, p))
	url := fmt.Sprintf("https://shop.pyship.test:%d/", acme.HTTPSPort)
	out, err := exec.Command("curl", "-sS", "--http2", "--cacert", acme.RootFile, "--max-time", "60",
		"--resolve", fmt.Sprintf("shop.pyship.test:%d:127.0.0.1", acme.HTTPSPort),
		"-D", "-", "-w", "\n%{http_version} %{http_code}", url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", url, err, out)
	}
	s := string(out)
	if !strings.HasSuffix(s, "stdlib tls1\n\n2 200") || !strings.Contains(strings.ToLower(s), "strict-transport-security: max-age=300") {
		t.Errorf("curl %s:\n%s\nwant the app's page over HTTP/2 with HSTS", url, s)
	}
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/x", acme.HTTPPort), "shop.pyship.test"); code != http.StatusPermanentRedirect {
		t.Errorf("HTTP: %d, want 308 to HTTPS", code)
	}
	if st, err := c.Status(t.Context(), "shop"); err != nil || len(st) != 1 || st[0].URL != url {
		t.Errorf("status of shop: %v %+v, want URL %s", err, st, url)
	}
}

// TestAppMovesToTheEdgeAtRestart: an app served on its own port whose stable release names
// hosts when the agent restarts (a release made before the shared edge existed) is served on
// the edge, and the proxy process of its own port ends.
func TestAppMovesToTheEdgeAtRestart(t *testing.T) {
	home := newHome(t)
	edgePorts := sharedEdgePorts(t)
	c, _, stop := runAgent(t, home, edgePorts)
	own := port(t)
	p := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", own)
	p.Deploy.Replicas = 1
	m := build(t, home, p)
	deploy(t, c, m)
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/", own), ""); code != 200 {
		t.Fatalf("own port: %d", code)
	}
	stop()
	m.Plan.Edge = &plan.Edge{Hosts: []string{"stdapp.localhost"}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(release.Paths{Home: home}.Releases(m.App), m.ID, "release.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	startAgent(t, home, edgePorts)
	url := fmt.Sprintf("http://127.0.0.1:%d/", sharedHTTPPort(t, edgePorts))
	if err := testsvc.Poll(20*time.Second, func() error {
		if code, body := get(t, url, "stdapp.localhost"); code != 200 || body != "stdlib v1\n" {
			return fmt.Errorf("on the edge: %d %q", code, body)
		}
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", own), time.Second); err == nil {
			conn.Close()
			return fmt.Errorf("its own port %d still answers", own)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestCanaryThroughTheEdge: a canary deploy of an app on the shared edge moves the traffic by
// weights and is judged on the metrics of its proxy inside the edge, dropping no request.
func TestCanaryThroughTheEdge(t *testing.T) {
	home := newHome(t)
	edgePorts := sharedEdgePorts(t)
	c := startAgent(t, home, edgePorts)
	dir := stdlibApp(t, "")
	plan1 := stdlibPlan(dir, "v1", "canary", port(t))
	plan1.Edge = &plan.Edge{Hosts: []string{"stdapp.localhost"}}
	deploy(t, c, build(t, home, plan1))
	l := startLoadHost(fmt.Sprintf("http://127.0.0.1:%d/", sharedHTTPPort(t, edgePorts)), "stdapp.localhost", 4)
	l.waitFor(t, 20)
	plan2 := stdlibPlan(dir, "v2", "canary", plan1.Run.Port)
	plan2.Edge = plan1.Edge
	m2 := build(t, home, plan2)
	final := deploy(t, c, m2)
	l.waitFor(t, 20)
	l.stop()
	if f := final.Final; f == nil || f.Phase != "succeeded" || f.Analysis == nil || f.Analysis.CanaryRequests < 20 {
		t.Fatalf("the canary ended %+v, want succeeded after an analysis of at least 20 requests", f)
	}
	if l.failed.Load() != 0 || l.last != "stdlib v2" || l.bodies["stdlib v1"] == 0 {
		t.Errorf("load: %d failed %v, bodies %v, last %q; want none failed, v1 then v2", l.failed.Load(), l.errs, l.bodies, l.last)
	}
}
