package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
)

// webExamples are the examples that serve HTTP, each started the way a user would.
var webExamples = []struct {
	name    string
	appName string
	command func(port string) []string // command[0] is looked up in the venv's bin folder
}{
	{"stdlib", "stdlib-example", func(string) []string { return []string{"python", "main.py"} }},
	{"flask", "flask-example", func(port string) []string {
		return []string{"gunicorn", "--bind", "127.0.0.1:" + port, "app:app"}
	}},
	{"fastapi", "fastapi-example", func(port string) []string {
		return []string{"uvicorn", "--app-dir", "src", "fastapi_app.main:app", "--host", "127.0.0.1", "--port", port}
	}},
	{"django", "django-example", func(port string) []string {
		return []string{"gunicorn", "--bind", "127.0.0.1:" + port, "mysite.wsgi:application"}
	}},
}

func TestExamplesRun(t *testing.T) {
	bin := makeVenv(t)
	for _, ex := range webExamples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			dir := copyExample(t, ex.name)
			port := freePort(t)
			version := "v-test-" + ex.name
			p := start(t, bin, dir, ex.command(port), "PORT="+port, "PYSHIP_VERSION="+version)
			base := "http://127.0.0.1:" + port

			waitHealthy(t, p, base+"/healthz")
			status, body := get(t, base+"/")
			if status != http.StatusOK || !strings.Contains(body, version) || !strings.Contains(body, ex.appName) {
				t.Errorf("GET / = %d %q, want 200 with %q and %q", status, body, ex.appName, version)
			}
			if ex.name == "stdlib" {
				checkStdlibExtras(t, base, dir)
			}

			if code := p.terminate(t); code != 0 {
				t.Errorf("%s exited with status %d after SIGTERM, want 0\n%s", ex.name, code, p.out.String())
			}
		})
	}
	t.Run("worker", func(t *testing.T) {
		t.Parallel()
		dir := copyExample(t, "worker")
		p := start(t, bin, dir, []string{"python", "worker.py"}, "PYSHIP_VERSION=v-test-worker")
		log := filepath.Join(dir, "data", "heartbeat.log")
		poll(t, p, 30*time.Second, "a heartbeat in data/heartbeat.log", func() bool {
			b, _ := os.ReadFile(log)
			return strings.Contains(string(b), "heartbeat 1 version=v-test-worker")
		})
		poll(t, p, 10*time.Second, "a heartbeat on stdout", func() bool {
			return strings.Contains(p.out.String(), "heartbeat 1 version=v-test-worker")
		})
		if code := p.terminate(t); code != 0 {
			t.Errorf("worker exited with status %d after SIGTERM, want 0\n%s", code, p.out.String())
		}
		if !strings.Contains(p.out.String(), "worker stopped") {
			t.Errorf("worker did not stop cleanly:\n%s", p.out.String())
		}
	})
}

// checkStdlibExtras checks what only the stdlib example does: images and the visit counter.
func checkStdlibExtras(t *testing.T, base, dir string) {
	t.Helper()
	status, body := get(t, base+"/images/pixel.png")
	if status != http.StatusOK || !strings.HasPrefix(body, "\x89PNG") {
		t.Errorf("GET /images/pixel.png = %d (%d bytes), want 200 and a PNG", status, len(body))
	}
	if status, _ := get(t, base+"/images/..%2fconfig%2fconfig.ini"); status != http.StatusNotFound {
		t.Errorf("GET of a path outside data/images = %d, want 404", status)
	}
	if _, body := get(t, base+"/"); !strings.Contains(body, `"visits": 2`) {
		t.Errorf("second GET / = %q, want visits 2", body)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "visits.txt"))
	if err != nil || strings.TrimSpace(string(b)) != "2" {
		t.Errorf("data/visits.txt = %q, %v; want 2", b, err)
	}
}

func TestExamplesCheck(t *testing.T) {
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range []string{"stdlib", "flask", "fastapi", "django", "worker"} {
		files, err := pybuild.AppFiles(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, ".py") {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: AppFiles found no .py files in %v", name, files)
		}
		errs, err := pybuild.Check(ctx, py, name, files)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s: %s", name, e)
		}
	}
}

// makeVenv builds one virtualenv with every example's packages from the wheelhouse and returns
// its bin folder.
func makeVenv(t *testing.T) string {
	t.Helper()
	env := testsvc.Start(t, "python")
	py, wheels := env["PYSHIP_TEST_PYTHON"], env["PYSHIP_TEST_WHEELHOUSE"]
	if py == "" || wheels == "" {
		t.Fatalf("scripts/services start python gave PYSHIP_TEST_PYTHON=%q PYSHIP_TEST_WHEELHOUSE=%q; both are needed", py, wheels)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	venv := filepath.Join(t.TempDir(), "venv")
	run := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "PIP_NO_INDEX=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_FIND_LINKS="+wheels)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	// The host's pip installs into a venv made without one: twice as fast as ensurepip.
	run(py, "-m", "venv", "--without-pip", venv)
	run(py, "-m", "pip", "--python", filepath.Join(venv, "bin", "python"), "install", "--no-compile",
		"--no-index", "--find-links", wheels, "flask", "gunicorn", "fastapi", "uvicorn", "django")
	return filepath.Join(venv, "bin")
}

// copyExample copies examples/NAME into a temporary folder, so that runs write their data and
// bytecode there rather than into the repository.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	return testsvc.CopyTree(t, name)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// proc is a running example.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed once the process has exited
	err    error         // Wait's result, set before exited is closed
}

// start runs command (its first word from the venv's bin folder) in dir with extra environment.
func start(t *testing.T, bin, dir string, command []string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, command[0]), command[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"VIRTUAL_ENV="+filepath.Dir(bin),
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", command, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return p
}

// terminate sends SIGTERM to the process (not its group: a server must stop its own workers)
// and returns its exit status once it has exited.
func (p *proc) terminate(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", p.out.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("waiting for the process: %v", p.err)
	}
	return 0
}

// poll calls ok until it returns true, failing the test when the deadline passes or the
// process exits first.
func poll(t *testing.T, p *proc, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-p.exited:
			if ok() {
				return
			}
			t.Fatalf("exited (%v) before %s\n%s", p.err, what, p.out.String())
		case <-deadline:
			t.Fatalf("no %s after %s\n%s", what, timeout, p.out.String())
		case <-tick.C:
		}
	}
}

func waitHealthy(t *testing.T, p *proc, url string) {
	t.Helper()
	poll(t, p, 60*time.Second, "200 ok from "+url, func() bool {
		status, body, err := fetch(url)
		return err == nil && status == http.StatusOK && strings.TrimSpace(body) == "ok"
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	status, body, err := fetch(url)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func fetch(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", url, err)
	}
	return resp.StatusCode, string(b), nil
}

// syncBuffer is a bytes.Buffer safe for a process's stdout and stderr and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
