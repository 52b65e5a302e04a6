package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
)

// The edge tests put the real proxy in front of real Python servers (testdata/edgeapp.py
// under http.server, gunicorn and uvicorn) and of small raw-TCP backends that misbehave on
// purpose, and speak raw bytes to it.

var edgeVenv struct {
	once         sync.Once
	python, venv string
	err          error
}

// edgePython returns the host Python and a venv with gunicorn and uvicorn from the test
// wheelhouse, built once per test binary (and kept between runs, keyed by its contents).
func edgePython(t *testing.T) (python, venv string) {
	t.Helper()
	env := testsvc.Start(t, "python")
	edgeVenv.once.Do(func() {
		edgeVenv.python = env["PYSHIP_TEST_PYTHON"]
		wh := env["PYSHIP_TEST_WHEELHOUSE"]
		if wh == "" {
			edgeVenv.err = errors.New("no test wheelhouse (../shared/wheelhouse) for gunicorn and uvicorn")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		edgeVenv.venv, edgeVenv.err = pybuild.EnsureVenv(ctx, edgeVenv.python, filepath.Join(os.TempDir(), "pyship-proxy-test-venvs"),
			pybuild.PipInput{Requirements: "gunicorn\nuvicorn\n"},
			pybuild.VenvOptions{Env: append(os.Environ(), "PIP_NO_INDEX=1", "PIP_FIND_LINKS="+wh)})
	})
	if edgeVenv.err != nil {
		t.Fatalf("making the Python venv of the edge tests: %v", edgeVenv.err)
	}
	return edgeVenv.python, edgeVenv.venv
}

// pyBackend is a running Python server; log is the file where it notes every request.
type pyBackend struct {
	kind, addr, log string
}

// seen is the list of "METHOD PATH" the app was asked, in order.
func (b *pyBackend) seen(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(b.log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
}

func (b *pyBackend) saw(t *testing.T, path string) bool {
	t.Helper()
	for _, l := range b.seen(t) {
		if strings.HasSuffix(l, "_"+path) {
			return true
		}
	}
	return false
}

var pyKinds = []string{"http.server", "gunicorn", "uvicorn"}

// startPy runs edgeapp.py under the server kind (gunicorn with workers sync workers) until
// the test ends.
func startPy(t *testing.T, kind string, workers int) *pyBackend {
	t.Helper()
	python, venv := edgePython(t)
	app, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	port := testsvc.Port(t) // reserved across test processes, not picked and released
	b := &pyBackend{kind: kind, addr: fmt.Sprintf("127.0.0.1:%d", port), log: filepath.Join(t.TempDir(), "requests.log")}
	var cmd *exec.Cmd
	switch kind {
	case "http.server":
		cmd = exec.Command(python, filepath.Join(app, "edgeapp.py"), fmt.Sprint(port))
	case "gunicorn":
		cmd = exec.Command(filepath.Join(venv, "bin", "gunicorn"), "-w", fmt.Sprint(workers), "-b", b.addr, "--chdir", app, "edgeapp:wsgi")
	case "uvicorn":
		cmd = exec.Command(filepath.Join(venv, "bin", "uvicorn"), "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--app-dir", app, "--log-level", "warning", "edgeapp:asgi")
	default:
		t.Fatalf("no Python server %q", kind)
	}
	cmd.Env = append(os.Environ(), "EDGE_LOG="+b.log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // gunicorn's workers go with it
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", b.addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %s", kind, b.addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return b
}

// edgeFront serves a new proxy with opts, routing everything to addr, and returns it with
// its address.
func edgeFront(t *testing.T, addr string, opts Options) (*Proxy, string) {
	t.Helper()
	p := New(opts)
	p.AddBackend("b1", "r1", addr)
	if err := p.SetWeights(map[string]int{"r1": 100}); err != nil {
		t.Fatal(err)
	}
	return p, strings.TrimPrefix(front(t, p), "http://")
}

// rawResp is one response read off a raw connection.
type rawResp struct {
	status int
	header http.Header
	body   string
}

// exchange writes req on a new connection to addr and reads up to n responses (to requests
// of method), then reports whether the proxy closed the connection after them.
func exchange(t *testing.T, addr, req, method string, n int) ([]rawResp, bool) {
	t.Helper()
	return roundTrips(t, addr, req, method, n, true)
}

// ask is exchange without waiting to see whether the connection is closed.
func ask(t *testing.T, addr, req, method string, n int) []rawResp {
	t.Helper()
	res, _ := roundTrips(t, addr, req, method, n, false)
	return res
}

func roundTrips(t *testing.T, addr, req, method string, n int, checkClose bool) ([]rawResp, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err) // not Fatal: callers run it on goroutines of their own too
		return nil, false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	go io.WriteString(c, req) // the proxy may answer before it read it all
	br := bufio.NewReader(c)
	var out []rawResp
	for len(out) < n {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out, true
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return out, true
		}
		out = append(out, rawResp{resp.StatusCode, resp.Header, string(b)})
		if resp.Close {
			break
		}
	}
	return out, checkClose && isClosed(c, br)
}

// isClosed tells whether the peer closed c (nothing more arrives within 2 s otherwise).
func isClosed(c net.Conn, br *bufio.Reader) bool {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// rawBackend is a backend speaking raw HTTP/1.1 that misbehaves on purpose: answer gets each
// request's head and body (by Content-Length) and writes whatever it wants; returning false
// closes the connection.
func rawBackend(t *testing.T, answer func(c net.Conn, req *http.Request, body []byte) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(req.Body)
					if !answer(c, req, body) {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
