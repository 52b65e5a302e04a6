package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// venvCache is shared by every test of the package so the venv is built once.
var venvCache string

func TestMain(m *testing.M) {
	if os.Getenv("PYSHIP_TEST_PROXY_PROCESS") == "1" {
		os.Exit(proxyProcessMain())
	}
	d, err := os.MkdirTemp("", "pyship-agent-venvs-")
	if err != nil {
		panic(err)
	}
	venvCache = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// proxyProcessMain is `pyship agent proxy` inside the test binary, which the agents of the
// tests start as their apps' proxy processes.
func proxyProcessMain() int {
	control, edge, acmeCache, acmeCA := "", false, "", ""
	for i, a := range os.Args {
		if i+1 < len(os.Args) {
			switch a {
			case "--control":
				control = os.Args[i+1]
			case "--acme-cache":
				acmeCache = os.Args[i+1]
			case "--acme-ca":
				acmeCA = os.Args[i+1]
			}
		}
		edge = edge || a == "--edge"
	}
	ln, err := net.FileListener(os.NewFile(3, "public listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if edge {
		tlsLn, err := net.FileListener(os.NewFile(4, "HTTPS listener"))
		if err == nil {
			err = proxy.RunEdgeProcess(ctx, ln, tlsLn, control, proxy.EdgeOptions{CacheDir: acmeCache, RootCAFile: acmeCA})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	if err := proxy.RunProcess(ctx, ln, control, proxy.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testProxyCommand starts the test binary as a proxy process.
func testProxyCommand() []string {
	return []string{"/usr/bin/env", "PYSHIP_TEST_PROXY_PROCESS=1", os.Args[0]}
}

func newHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := os.Symlink(venvCache, filepath.Join(home, "venvs")); err != nil {
		t.Fatal(err)
	}
	return home
}

func port(t *testing.T) int { return testsvc.Port(t) }

// startAgent runs an agent on home until the test ends (replicas are stopped too); opts
// adjust it before it starts.
func startAgent(t *testing.T, home string, opts ...func(*Agent)) *Client {
	t.Helper()
	c, a, shutdown := runAgent(t, home, opts...)
	t.Cleanup(func() {
		for _, n := range a.appNames() {
			c.Act(context.Background(), n, "stop")
		}
		shutdown()
	})
	return c
}

// runAgent runs an agent on home until shutdown, which leaves its replicas running for the
// next agent, as a restart does; opts adjust it before it starts.
func runAgent(t *testing.T, home string, opts ...func(*Agent)) (*Client, *Agent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{Home: home, AdminAddr: "127.0.0.1:0", BindHost: "127.0.0.1", ProxyCommand: testProxyCommand(),
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, o := range opts {
		o(a)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	c := NewClient(home)
	if err := testsvc.Poll(10*time.Second, func() error { return c.Ping(context.Background()) }); err != nil {
		cancel()
		t.Fatalf("the agent did not start: %v", err)
	}
	var once sync.Once
	return c, a, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// stdlibApp copies the stdlib test app to a fresh project folder with the given mode.
func stdlibApp(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	src := "../testdata/stdlib"
	for _, f := range []string{"app.py", "config/settings.txt"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if mode != "" {
		os.WriteFile(filepath.Join(dir, "mode.txt"), []byte(mode), 0o644)
	}
	return dir
}

func stdlibPlan(dir, version, strategy string, port int) *plan.Plan {
	return &plan.Plan{SchemaVersion: 1, Dir: dir, Name: "stdapp", Version: version,
		Dependencies: plan.Dependencies{Kind: "none"},
		Run:          plan.Run{Command: []string{"python", "app.py"}, Kind: "web", Framework: "plain", Port: port, Workers: 1},
		Health:       plan.Health{Type: "http", Path: "/healthz", Interval: "300ms", Timeout: "1s", StartupTimeout: "6s"},
		Config:       &plan.Folder{Path: "config"},
		Env:          map[string]string{"GREETING": "hello"},
		Deploy: plan.Deploy{Target: "local", Strategy: rollout.Strategy(strategy), Replicas: 2, DrainTimeout: "5s", RollbackWindow: "1m",
			Canary: &plan.Canary{Steps: []int{25, 100}, Pause: "1500ms", MinRequests: 20, MaxErrorRate: 0.05, MaxLatencyRatio: 20}},
	}
}

// build builds release p into home, with env added to this process's environment.
func build(t *testing.T, home string, p *plan.Plan, env ...string) *release.Manifest {
	t.Helper()
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m, err := release.Build(ctx, release.Paths{Home: home}, p, release.Options{Python: py, Env: append(os.Environ(), env...)})
	if err != nil {
		t.Fatalf("building %s %s: %v", p.Name, p.Version, err)
	}
	return m
}

func deploy(t *testing.T, c *Client, m *release.Manifest) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	final, err := c.Deploy(ctx, DeployRequest{App: m.App, Release: m.ID}, func(e Event) { t.Logf("deploy %s: %s%s", m.ID, e.Message, e.Warning) })
	if err != nil {
		t.Fatalf("deploying %s: %v", m.ID, err)
	}
	return final
}

// load sends requests continuously to url from a few clients with keep-alive.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	bodies     map[string]int
	last       string
	errs       []string
	starts     []time.Time // when each request was sent
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

func startLoad(url string, clients int) *load { return startLoadHost(url, "", clients) }

// startLoadHost is startLoad with requests for the Host host ("": the URL's).
func startLoadHost(url, host string, clients int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{bodies: map[string]int{}, cancel: cancel}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			for ctx.Err() == nil {
				l.mu.Lock()
				l.starts = append(l.starts, time.Now())
				l.mu.Unlock()
				req, err := http.NewRequest("GET", url, nil)
				if err != nil {
					panic(err)
				}
				if host != "" {
					req.Host = host
				}
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						l.fail(err.Error())
					}
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					l.fail(resp.Status + " " + string(b))
					continue
				}
				l.ok.Add(1)
				l.mu.Lock()
				l.bodies[strings.TrimSpace(string(b))]++
				l.last = strings.TrimSpace(string(b))
				l.mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) fail(msg string) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// sentBetween counts the requests sent from from to to.
func (l *load) sentBetween(from, to time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.starts {
		if !s.Before(from) && !s.After(to) {
			n++
		}
	}
	return n
}

// waitFor waits until the load has seen n more successful answers.
func (l *load) waitFor(t *testing.T, n int64) {
	t.Helper()
	target := l.ok.Load() + n
	testsvc.Eventually(t, 30*time.Second, fmt.Sprintf("%d more requests of the load to succeed", n), func() error {
		if l.ok.Load() < target {
			return fmt.Errorf("%d ok, %d failed %v", l.ok.Load(), l.failed.Load(), l.errs)
		}
		return nil
	})
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}
