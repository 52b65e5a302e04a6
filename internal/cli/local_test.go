package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// The local target's CLI tests run the real pyship binary, since deploy starts the agent as
// a background process.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	venvs   string
)

func TestMain(m *testing.M) {
	d, _ := os.MkdirTemp("", "pyship-cli-test-")
	venvs = filepath.Join(d, "venvs")
	binPath = filepath.Join(d, "pyship")
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

func pyshipBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		// Static, as releases are built (and as the agent image needs): the image tests build
		// the same way, so both share the build cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "github.com/pyship/pyship/cmd/pyship")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building pyship: %v", binErr)
	}
	return binPath
}

type env struct {
	t    *testing.T
	home string
	py   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	vars := testsvc.Start(t, "python")
	home := t.TempDir()
	os.MkdirAll(venvs, 0o755)
	if err := os.Symlink(venvs, filepath.Join(home, "venvs")); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, home: home, py: vars["PYSHIP_TEST_PYTHON"]}
	t.Cleanup(e.cleanup)
	return e
}

// cleanup ends the agent and any replica of this home.
func (e *env) cleanup() {
	if b, err := os.ReadFile(filepath.Join(e.home, "agent.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for pid := range supervise.Marked(e.home) {
		supervise.KillGroup(pid)
	}
	// The apps' proxy processes outlive the agent.
	files, _ := filepath.Glob(filepath.Join(e.home, "apps", "*", "proxy.pid"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// run runs pyship with args and returns exit code, stdout and stderr.
func (e *env) run(args ...string) (int, string, string) {
	e.t.Helper()
	return e.runIn("", args...)
}

// runIn runs pyship with args in the folder dir ("" for the test's own).
func (e *env) runIn(dir string, args ...string) (int, string, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pyshipBin(e.t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYSHIP_HOME="+e.home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running pyship %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func freeTCPPort(t *testing.T) int { return testsvc.Port(t) }

// project writes the stdlib test app with a plan file and returns the plan's path.
func (e *env) project(version, mode, strategy string, port int, edit func(*plan.Plan)) string {
	e.t.Helper()
	dir := e.t.TempDir()
	b, err := os.ReadFile("../local/testdata/stdlib/app.py")
	if err != nil {
		e.t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "app.py"), b, 0o644)
	if mode != "" {
		os.WriteFile(filepath.Join(dir, "mode.txt"), []byte(mode), 0o644)
	}
	p := plan.Plan{SchemaVersion: 1, Dir: dir, Name: "cliapp", Version: version,
		Dependencies: plan.Dependencies{Kind: "none"},
		Run:          plan.Run{Command: []string{"python", "app.py"}, Kind: "web", Port: port, Workers: 1},
		Health:       plan.Health{Type: "http", Path: "/healthz", Interval: "300ms", Timeout: "1s", StartupTimeout: "8s"},
		Deploy:       plan.Deploy{Target: "local", Strategy: rollout.Strategy(strategy), Replicas: 2, DrainTimeout: "5s", RollbackWindow: "1m"},
		Env:          map[string]string{},
	}
	if edit != nil {
		edit(&p)
	}
	pb, _ := json.Marshal(p)
	file := filepath.Join(e.t.TempDir(), "plan.json")
	os.WriteFile(file, pb, 0o644)
	return file
}

// startDeploy starts `pyship deploy` of the second release of cliapp (r2, one whose replicas
// are slow to start) in the background, its stderr to stderr, and returns once the agent has
// started both of its replicas.
func (e *env) startDeploy(planFile string, stderr io.Writer) *exec.Cmd {
	e.t.Helper()
	cmd := exec.Command(pyshipBin(e.t), "deploy", "--plan", planFile, "--python", e.py)
	cmd.Env = append(os.Environ(), "PYSHIP_HOME="+e.home)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	testsvc.Eventually(e.t, 60*time.Second, "the second deploy to start replicas", func() error {
		b, _ := os.ReadFile(filepath.Join(e.home, "apps", "cliapp", "state.json"))
		if strings.Count(string(b), `"release": "r2"`) < 2 {
			return fmt.Errorf("state:\n%s", b)
		}
		return nil
	})
	return cmd
}

func (e *env) deploy(planFile string, extra ...string) (int, string, string) {
	return e.run(append([]string{"deploy", "--plan", planFile, "--python", e.py, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1"}, extra...)...)
}

func getBody(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

func (e *env) status() []platform.AppStatus {
	e.t.Helper()
	code, out, errs := e.run("status", "--output", "json")
	if code != 0 {
		e.t.Fatalf("status: exit %d: %s", code, errs)
	}
	var st []platform.AppStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return st
}

// poller sends requests continuously and records what it got.
type poller struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	bodies     map[string]int
	stopc      chan struct{}
	once       sync.Once
	done       sync.WaitGroup
}

func poll(url string) *poller {
	p := &poller{bodies: map[string]int{}, stopc: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		for {
			select {
			case <-p.stopc:
				return
			case <-time.After(5 * time.Millisecond):
			}
			code, body, err := getBody(url)
			if err != nil || code != 200 {
				p.failed.Add(1)
				continue
			}
			p.ok.Add(1)
			p.mu.Lock()
			p.bodies[body]++
			p.mu.Unlock()
		}
	}()
	return p
}

// served waits until the poller has had n more successful answers.
func (p *poller) served(t *testing.T, n int64) {
	t.Helper()
	target := p.ok.Load() + n
	testsvc.Eventually(t, 20*time.Second, fmt.Sprintf("%d more answers", n), func() error {
		if p.ok.Load() < target {
			return fmt.Errorf("%d ok, %d failed", p.ok.Load(), p.failed.Load())
		}
		return nil
	})
}

func (p *poller) stop() { p.once.Do(func() { close(p.stopc) }); p.done.Wait() }

func webhookServer(t *testing.T) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var texts []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		texts = append(texts, body.Text)
		mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), texts...)
	}
}

func netListen(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}

// proxyProcesses counts the running proxy processes of the apps of home.
func proxyProcesses(home string) int {
	n := 0
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), "\x00--control\x00"+filepath.Join(home, "apps")) {
			n++
		}
	}
	return n
}
