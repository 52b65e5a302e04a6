package agent

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// frameworks are the test apps served by real Python servers. They share one set of
// requirements, so one venv serves them all.
var frameworks = []struct {
	name, dir string
	command   []string
}{
	{"flask", "flaskapp", []string{"gunicorn", "--bind", "127.0.0.1:${PORT}", "--workers", "2", "app:app"}},
	{"fastapi", "fastapiapp", []string{"uvicorn", "main:app", "--host", "127.0.0.1", "--port", "${PORT}"}},
	{"django", "djangoapp", []string{"gunicorn", "--bind", "127.0.0.1:${PORT}", "--workers", "2", "mysite.wsgi"}},
}

var frameworkReqs = []plan.Requirement{
	{Name: "flask", Spec: "flask==2.2.2"}, {Name: "gunicorn", Spec: "gunicorn==20.1.0"},
	{Name: "fastapi", Spec: "fastapi"}, {Name: "uvicorn", Spec: "uvicorn==0.17.6"}, {Name: "django", Spec: "django==3.2.25"},
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// pipEnv points pip at the test wheelhouse.
func pipEnv(t *testing.T) {
	t.Helper()
	wh := testsvc.Start(t, "python")["PYSHIP_TEST_WHEELHOUSE"]
	if wh == "" {
		t.Fatal("no wheelhouse: ../shared/wheelhouse is needed to install Flask, FastAPI and Django offline")
	}
	t.Setenv("PIP_NO_INDEX", "1")
	t.Setenv("PIP_FIND_LINKS", wh)
}

func TestFrameworksDropNothing(t *testing.T) {
	pipEnv(t)
	for _, fw := range frameworks {
		for _, strategy := range []string{"rolling", "blue-green", "canary"} {
			t.Run(fw.name+"/"+strategy, func(t *testing.T) {
				home := newHome(t)
				c := startAgent(t, home)
				pub := port(t)
				url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
				mk := func(version string) *plan.Plan {
					p := stdlibPlan(copyTree(t, filepath.Join("../testdata", fw.dir)), version, strategy, pub)
					p.Name, p.Run.Command, p.Config = fw.name+"app", fw.command, nil
					p.Dependencies = plan.Dependencies{Kind: "requirements", Requirements: frameworkReqs}
					p.Health.StartupTimeout = "30s"
					return p
				}
				deploy(t, c, build(t, home, mk("v1")))
				if _, body := httpGet(t, url); body != fw.name+" v1" {
					t.Fatalf("v1 answers %q", body)
				}
				l := startLoad(url, 4)
				l.waitFor(t, 50)
				ev := deploy(t, c, build(t, home, mk("v2")))
				l.waitFor(t, 50)
				l.stop()
				if ev.Final.Phase != rollout.Succeeded {
					t.Fatalf("v2 deploy: %s: %s", ev.Final.Phase, ev.Final.Message)
				}
				if l.failed.Load() != 0 {
					t.Errorf("%d of %d requests failed during the deploy: %v", l.failed.Load(), l.ok.Load()+l.failed.Load(), l.errs)
				}
				if l.last != fw.name+" v2" {
					t.Errorf("responses did not move to v2: last %q, counts %v", l.last, l.bodies)
				}
			})
		}
	}
}
