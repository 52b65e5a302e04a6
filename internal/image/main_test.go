package image_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// testEnv is the setup the package's tests share: the base image, the host Python with the
// wheelhouse as the only index, and one build cache.
type testEnv struct {
	Base       string
	Python     string
	Cache      string
	Registry   string
	Wheelhouse string
	// Env is the environment pip runs in: this process's with the wheelhouse as the only index.
	Env []string
}

var (
	envOnce   sync.Once
	shared    testEnv
	cacheRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pyship-image-test-")
	if err != nil {
		panic(err)
	}
	cacheRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func env(t *testing.T) testEnv {
	t.Helper()
	if testing.Short() { // before the Once: a skip inside it would leave the setup empty for the rest
		t.Skip("-short: needs the pybase and registry services (scripts/test runs this test)")
	}
	envOnce.Do(func() {
		base := testsvc.Start(t, "pybase")
		py := testsvc.Start(t, "python")
		reg := testsvc.Start(t, "registry")
		wh := py["PYSHIP_TEST_WHEELHOUSE"]
		if wh == "" {
			t.Fatal("no wheelhouse: ../shared/wheelhouse is missing")
		}
		// pip reads these itself: the build honours the user's pip settings.
		shared = testEnv{Wheelhouse: wh, Base: base["PYSHIP_TEST_BASE"], Python: py["PYSHIP_TEST_PYTHON"], Cache: filepath.Join(cacheRoot, "cache"), Registry: reg["PYSHIP_TEST_REGISTRY"],
			Env: testsvc.WithEnv(os.Environ(), "PIP_NO_INDEX=1", "PIP_FIND_LINKS="+wh)}
	})
	if shared.Base == "" {
		t.Fatal("test setup failed earlier")
	}
	return shared
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// copyApp copies testdata/NAME into a fresh folder, so tests can change files.
func copyApp(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", name)
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fi.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func reqs(lines ...string) []plan.Requirement {
	var rs []plan.Requirement
	for _, l := range lines {
		name, version, _ := strings.Cut(l, "==")
		rs = append(rs, plan.Requirement{Name: name, Spec: l, Version: version})
	}
	return rs
}

// appPlan is a plan for each test app, written by hand so that tests control every field
// (TestExamplesRunUnderPodman builds the real examples with the plans pyship detects).
func appPlan(t *testing.T, name, dir string) *plan.Plan {
	t.Helper()
	p := &plan.Plan{SchemaVersion: plan.SchemaVersion, Dir: dir, Name: name + "-app", Version: "1.0.0", Python: plan.Python{Version: "3.11"}, Env: map[string]string{"GREETING": "hi"}}
	switch name {
	case "stdlib":
		p.Run = plan.Run{Command: []string{"python3", "server.py"}, Kind: "web", Framework: "plain", Port: 8000, Entrypoint: "server.py"}
	case "flask":
		p.Dependencies = plan.Dependencies{Kind: "requirements", Source: "requirements.txt", Requirements: reqs("flask==2.2.2", "gunicorn==20.1.0")}
		p.Run = plan.Run{Command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "app:app"}, Shell: "gunicorn --bind 0.0.0.0:${PORT} app:app", Kind: "web", Framework: "flask", Server: "gunicorn", App: "app:app", Port: 8000, Workers: 1}
		p.Config = &plan.Folder{Path: "config"}
		p.Data = []plan.DataFolder{{Path: "data", Persistent: true}}
	case "worker":
		p.Run = plan.Run{Command: []string{"python3", "worker.py"}, Kind: "worker", Framework: "plain"}
	}
	return p
}

// build builds p in the tests' environment changed by vars (testsvc.WithEnv's KEY=VALUE or KEY).
func build(t *testing.T, p *plan.Plan, cache string, vars ...string) *image.Result {
	t.Helper()
	e := env(t)
	if cache == "" {
		cache = e.Cache
	}
	res, err := image.Build(ctxT(t), p, image.Options{CacheDir: cache, Python: e.Python, Base: e.Base, Created: time.Unix(1700000000, 0), Env: testsvc.WithEnv(e.Env, vars...)})
	if err != nil {
		t.Fatalf("building %s: %v", p.Name, err)
	}
	return res
}
