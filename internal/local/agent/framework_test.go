package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// frameworks are the examples of the repository, each served by its own real server
// (python / gunicorn / uvicorn), resolved from their folders as `pyship deploy` does.
var frameworks = []string{"stdlib", "flask", "fastapi", "django"}

// examplePlan resolves a copy of examples/name for a deploy of version on port.
func examplePlan(t *testing.T, dir, version, strategy string, port int) *plan.Plan {
	t.Helper()
	p, err := plan.Resolve(context.Background(), dir, plan.Options{})
	if err != nil {
		t.Fatalf("resolving %s: %v", dir, err)
	}
	p.Version, p.Run.Port, p.Deploy.Strategy, p.Deploy.Replicas = version, port, rollout.Strategy(strategy), 2
	p.Run.Workers = 1
	p.Health.Interval, p.Health.StartupTimeout = "300ms", "30s"
	p.Deploy.DrainTimeout, p.Deploy.RollbackWindow = "5s", "1m"
	p.Deploy.Canary = &plan.Canary{Steps: []int{25, 100}, Pause: "1500ms", MinRequests: 20, MaxErrorRate: 0.05, MaxLatencyRatio: 20}
	return p
}

// versionOf reads the version an example reports in its JSON answer to GET /.
func versionOf(body string) string {
	var v struct{ Version string }
	if json.Unmarshal([]byte(body), &v) != nil {
		return ""
	}
	return v.Version
}

// pipEnv is the environment that points pip at the test wheelhouse, for build.
func pipEnv(t *testing.T) []string {
	t.Helper()
	wh := testsvc.Start(t, "python")["PYSHIP_TEST_WHEELHOUSE"]
	if wh == "" {
		t.Fatal("no wheelhouse: ../shared/wheelhouse is needed to install Flask, FastAPI and Django offline")
	}
	return []string{"PIP_NO_INDEX=1", "PIP_FIND_LINKS=" + wh}
}

// TestFrameworksDropNothing deploys every example twice with every strategy under load. The
// twelve cases run in parallel (go test -parallel bounds how many at once); each has its own
// agent, home and copy of the example.
func TestFrameworksDropNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the framework x strategy matrix takes minutes (scripts/test runs it)")
	}
	env := pipEnv(t)
	for _, fw := range frameworks {
		for _, strategy := range []string{"rolling", "blue-green", "canary"} {
			t.Run(fw+"/"+strategy, func(t *testing.T) {
				t.Parallel()
				dir := testsvc.CopyTree(t, filepath.Join(testsvc.RepoRoot(t), "examples", fw))
				home := newHome(t)
				c := startAgent(t, home)
				pub := port(t)
				url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
				deploy(t, c, build(t, home, examplePlan(t, dir, "v1", strategy, pub), env...))
				if _, body := httpGet(t, url); versionOf(body) != "v1" {
					t.Fatalf("v1 answers %q", body)
				}
				l := startLoad(url, 4)
				l.waitFor(t, 50)
				ev := deploy(t, c, build(t, home, examplePlan(t, dir, "v2", strategy, pub), env...))
				l.waitFor(t, 50)
				l.stop()
				if ev.Final.Phase != rollout.Succeeded {
					t.Fatalf("v2 deploy: %s: %s", ev.Final.Phase, ev.Final.Message)
				}
				if l.failed.Load() != 0 {
					t.Errorf("%d of %d requests failed during the deploy: %v", l.failed.Load(), l.ok.Load()+l.failed.Load(), l.errs)
				}
				if versionOf(l.last) != "v2" {
					t.Errorf("responses did not move to v2: last %q, counts %v", l.last, l.bodies)
				}
			})
		}
	}
}
