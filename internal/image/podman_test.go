package image_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/testsvc"
)

// podman runs containers through the podman service's settings.
type podman struct {
	argv []string
	env  []string
}

func newPodman(t *testing.T) podman {
	t.Helper()
	vars := testsvc.Start(t, "podman")
	p := podman{argv: strings.Fields(vars["PYSHIP_TEST_PODMAN"]), env: os.Environ()}
	for _, k := range []string{"CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF"} {
		p.env = append(p.env, k+"="+vars[k])
	}
	return p
}

func (p podman) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, p.argv[0], append(p.argv[1:], args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// start runs ref detached with host networking and PORT=port, and removes it at the end.
func (p podman) start(t *testing.T, ref string, port int) string {
	t.Helper()
	id, err := p.run(ctxT(t), "run", "-d", "--network", "host", "--tls-verify=false", "-e", fmt.Sprintf("PORT=%d", port), ref)
	if err != nil {
		t.Fatal(err)
	}
	id = id[strings.LastIndex(id, "\n")+1:]
	t.Cleanup(func() { p.run(context.Background(), "rm", "-f", "-t", "0", id) })
	return id
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(t *testing.T, url string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var b strings.Builder
			_, _ = fmt.Fprint(&b, resp.Status)
			buf := make([]byte, 512)
			n, _ := resp.Body.Read(buf)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(buf[:n])
			}
			last = b.String()
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s: %s", url, within, last)
	return ""
}

func TestImagesRunUnderPodman(t *testing.T) {
	e := env(t)
	pm := newPodman(t)
	for _, tc := range []struct{ app, body string }{
		{"stdlib", "hello from stdlib"},
		{"flask", "hello from flask"},
		{"fastapi", `{"hello":"fastapi"}`},
		{"worker", ""},
	} {
		t.Run(tc.app, func(t *testing.T) {
			res := build(t, appPlan(t, tc.app, copyApp(t, tc.app)), "")
			ref, err := image.Push(ctxT(t), res, uniqueRepo(e.Registry, tc.app), image.PushOptions{})
			if err != nil {
				t.Fatal(err)
			}
			port := freePort(t)
			id := pm.start(t, ref, port)
			if tc.app == "worker" {
				waitLog(t, pm, id, "worker started", 30*time.Second)
			} else if body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second); !strings.Contains(body, tc.body) {
				t.Errorf("%s answered %q, want %q", tc.app, body, tc.body)
			}
			uid, err := pm.run(ctxT(t), "exec", id, "id", "-u")
			if err != nil {
				t.Fatal(err)
			}
			if uid != "65532" {
				t.Errorf("the app runs as uid %s, want 65532", uid)
			}
		})
	}
}

func waitLog(t *testing.T, pm podman, id, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var logs string
	for time.Now().Before(deadline) {
		logs, _ = pm.run(ctxT(t), "logs", id)
		if strings.Contains(logs, want) {
			running, err := pm.run(ctxT(t), "inspect", "-f", "{{.State.Running}}", id)
			if err != nil || running != "true" {
				t.Errorf("container not running after %q: %s %v", want, running, err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("container logs lack %q within %s:\n%s", want, within, logs)
}
