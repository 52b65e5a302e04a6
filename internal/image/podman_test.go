package image_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
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

// start runs ref detached with host networking, PORT=port and the extra podman run flags, and
// removes it at the end.
func (p podman) start(t *testing.T, ref string, port int, flags ...string) string {
	t.Helper()
	args := append([]string{"run", "-d", "--network", "host", "--tls-verify=false", "-e", fmt.Sprintf("PORT=%d", port)}, flags...)
	id, err := p.run(ctxT(t), append(args, ref)...)
	if err != nil {
		t.Fatal(err)
	}
	id = id[strings.LastIndex(id, "\n")+1:]
	t.Cleanup(func() { p.run(context.Background(), "rm", "-f", "-t", "0", id) })
	return id
}

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(t *testing.T, url string, within time.Duration) string {
	t.Helper()
	var body string
	testsvc.Eventually(t, within, url+" to answer 200", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s", resp.Status)
		}
		body = string(buf[:n])
		return nil
	})
	return body
}

// Each example of the repository, built with the plan pyship detects for it (as `pyship build`
// does, no hand-written plan) on the Debian base, runs under podman as the non-root user: the
// web apps answer 200, the worker beats, and the apps that keep data write it into their data
// volume.
func TestExamplesRunUnderPodman(t *testing.T) {
	e := env(t)
	pm := newPodman(t)
	for _, tc := range []struct {
		example string
		body    string // in GET / (the web apps)
		log     string // in the logs (the worker)
		data    string // a file the app writes into its data folder ("" when it keeps none)
		warning string // a build warning wanted
	}{
		{example: "stdlib", body: `"visits": 2`, data: "visits.txt"},
		{example: "flask", body: `"app":"flask-example"`},
		{example: "fastapi", body: `"app":"fastapi-example"`},
		{example: "django", body: `"app": "django-example"`, warning: "asks for Python 3.11.4"},
		{example: "worker", log: "heartbeat 2 version=dev", data: "heartbeat.log"},
	} {
		t.Run(tc.example, func(t *testing.T) {
			dir := testsvc.CopyTree(t, filepath.Join(testsvc.RepoRoot(t), "examples", tc.example))
			p, err := plan.Resolve(ctxT(t), dir, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex // events come from the two layers' goroutines
			var warnings []string
			res, err := image.Build(ctxT(t), p, image.Options{CacheDir: e.Cache, Env: e.Env, Python: e.Python, Base: e.Base, Progress: func(ev image.Event) {
				mu.Lock()
				defer mu.Unlock()
				if ev.Warning {
					warnings = append(warnings, ev.Message)
				}
			}})
			if err != nil {
				t.Fatalf("building examples/%s with its detected plan: %v", tc.example, err)
			}
			if tc.warning != "" && !strings.Contains(strings.Join(warnings, "\n"), tc.warning) {
				t.Errorf("build warnings %q lack %q", warnings, tc.warning)
			}
			ref, err := image.Push(ctxT(t), res, uniqueRepo(e.Registry, tc.example), image.PushOptions{})
			if err != nil {
				t.Fatal(err)
			}
			port := testsvc.Port(t)
			var id string
			if tc.data != "" {
				// A named volume on the data folder, as a deploy mounts one.
				vol := fmt.Sprintf("pyship-test-%s-%d", tc.example, time.Now().UnixNano())
				if _, err := pm.run(ctxT(t), "volume", "create", vol); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pm.run(context.Background(), "volume", "rm", "-f", vol) })
				id = pm.start(t, ref, port, "-v", vol+":"+image.AppDir+"/data")
			} else {
				id = pm.start(t, ref, port)
			}
			url := fmt.Sprintf("http://127.0.0.1:%d/", port)
			switch {
			case tc.log != "":
				waitLog(t, pm, id, tc.log, 30*time.Second)
			case tc.data != "":
				waitHTTP(t, url, 60*time.Second) // the first visit
				fallthrough
			default:
				if body := waitHTTP(t, url, 60*time.Second); !strings.Contains(body, tc.body) {
					t.Errorf("examples/%s answered %q, want %q in it", tc.example, body, tc.body)
				}
			}
			out, err := pm.run(ctxT(t), "exec", id, "sh", "-c", "id -u; ls -A "+image.AppDir+"/data 2>&1; true")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(out, "\n")
			if lines[0] != "65532" {
				t.Errorf("the app runs as uid %s, want 65532", lines[0])
			}
			if tc.data != "" && !strings.Contains(out, tc.data) {
				t.Errorf("examples/%s wrote no %s into its data volume: %s", tc.example, tc.data, out)
			}
		})
	}
}

func waitLog(t *testing.T, pm podman, id, want string, within time.Duration) {
	t.Helper()
	testsvc.Eventually(t, within, fmt.Sprintf("the container's logs to show %q", want), func() error {
		logs, _ := pm.run(ctxT(t), "logs", id)
		if !strings.Contains(logs, want) {
			return fmt.Errorf("logs:\n%s", logs)
		}
		return nil
	})
	running, err := pm.run(ctxT(t), "inspect", "-f", "{{.State.Running}}", id)
	if err != nil || running != "true" {
		t.Errorf("container not running after %q: %s %v", want, running, err)
	}
}
