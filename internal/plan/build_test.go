package plan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/spec"
	"github.com/pyship/pyship/internal/testsvc"
)

func TestAssembleDetectedFlask(t *testing.T) {
	proj := analyze(t, "flask-gunicorn")
	p, err := Assemble(&spec.Spec{}, proj)
	if err != nil {
		t.Fatal(err)
	}
	want := Run{
		Command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "app:app"},
		Shell:   "gunicorn --bind 0.0.0.0:${PORT} --workers 2 app:app",
		Kind:    "web", Framework: "flask", Server: "gunicorn", App: "app:app", Port: 8000, Workers: 2, WorkersArg: 4, Entrypoint: "app.py",
	}
	if !reflect.DeepEqual(p.Run, want) {
		t.Errorf("run = %+v\nwant %+v", p.Run, want)
	}
	if p.Name != "flask-gunicorn" || p.Python.Version != "3.11" || p.Build.Base != "python:3.11-slim" {
		t.Errorf("name, python, base = %s, %s, %s", p.Name, p.Python.Version, p.Build.Base)
	}
	if p.Health != (Health{Type: "http", Path: "/healthz", Interval: "5s", Timeout: "2s", StartupTimeout: "60s"}) {
		t.Errorf("health = %+v", p.Health)
	}
	if p.Config == nil || p.Config.Path != "config" || !reflect.DeepEqual(p.Data, []DataFolder{{Path: "data", Persistent: true}}) {
		t.Errorf("config, data = %+v, %+v", p.Config, p.Data)
	}
	if p.Env["PORT"] != "8000" {
		t.Errorf("env PORT = %q, want 8000", p.Env["PORT"])
	}
	d := p.Deploy
	if d.Target != "local" || d.Strategy != "rolling" || d.Replicas != 1 || d.DrainTimeout != "30s" || d.RollbackWindow != "10m" || d.Canary != nil {
		t.Errorf("deploy = %+v", d)
	}
	evidence := map[string]Evidence{
		"run.command":    {File: "app.py", Line: 6, Rule: "Flask application object"},
		"run.server":     {File: "requirements.txt", Rule: "gunicorn is in the dependencies"},
		"run.port":       {Rule: "default", Note: "the start command binds ${PORT}; the app reads $PORT at app.py:7"},
		"health.path":    {File: "app.py", Line: 15, Rule: "health route /healthz in the source"},
		"python.version": {Rule: "default"},
		"name":           {Rule: "project folder name"},
		"deploy.target":  {Rule: "default"},
		"config":         {File: "config/", Rule: "config/ folder exists"},
	}
	for k, want := range evidence {
		if got := p.Evidence[k]; got != want {
			t.Errorf("evidence[%s] = %+v, want %+v", k, got, want)
		}
	}
	for _, k := range []string{"name", "version", "python.version", "dependencies.source", "run.command", "run.kind",
		"run.framework", "run.port", "run.workers", "health.type", "health.path", "health.interval", "health.timeout",
		"health.startupTimeout", "config", "data", "env.PORT", "build.base", "deploy.target", "deploy.strategy",
		"deploy.replicas", "deploy.drainTimeout", "deploy.rollbackWindow", "deploy.backupBefore", "deploy.requestTimeout", "deploy.sticky"} {
		if e, ok := p.Evidence[k]; !ok || e.Rule == "" {
			t.Errorf("no evidence for %s", k)
		}
	}
}

// flaskSpec is a spec as spec.Load gives it for a pyship.toml that sets most keys.
func fullSpec(dir string) *spec.Spec {
	file := dir + "/pyship.toml"
	pos := func(line int) spec.Pos { return spec.Pos{File: file, Line: line} }
	return &spec.Spec{
		Name: "shop", Version: "2.0.0",
		Build:  spec.Build{Python: "3.12", Registry: "ghcr.io/acme", Exclude: []string{"*.md"}},
		Run:    spec.Run{Command: "gunicorn -b 0.0.0.0:$PORT -w 4 app:app", Port: 9000, Workers: 4},
		Health: spec.Health{Path: "/status", Interval: 10 * time.Second, StartupTimeout: 90 * time.Second},
		Deploy: spec.Deploy{Target: "kubernetes", Strategy: "canary", Replicas: 3, RollbackWindow: time.Hour, KeepReleases: 8,
			Canary: spec.Canary{Steps: []int{5, 25, 100}, MaxErrorRate: 0.02, PrometheusURL: "http://prom:9090"}},
		Kubernetes: spec.Kubernetes{Namespace: "shop", Host: "shop.example.com", CPU: "500m", MaxReplicas: 2, Monitoring: true},
		Env:        map[string]string{"DEBUG": "0"},
		Config:     spec.Config{Dir: "settings"},
		Data:       spec.Data{Static: []string{"data"}, Persistent: []string{"uploads"}},
		Secrets:    spec.Secrets{File: "/etc/shop.env"},
		File:       file,
		Positions: map[string]spec.Pos{
			"name": pos(1), "version": pos(2), "build.python": pos(4), "run.command": pos(7), "run.port": pos(8),
			"run.workers": pos(9), "health.path": pos(11), "health.interval": pos(12), "health.startup_timeout": pos(13),
			"deploy.target": pos(15), "deploy.strategy": pos(16), "deploy.replicas": pos(17), "deploy.rollback_window": pos(18),
			"deploy.keep_releases": pos(19),
			"deploy.canary.steps":  pos(20), "deploy.canary.max_error_rate": pos(21), "env.DEBUG": pos(23),
			"config.dir": pos(25), "data.persistent": pos(27), "data.static": pos(28), "secrets.file": pos(30),
			"deploy.canary.prometheus_url": pos(22), "kubernetes.namespace": pos(33), "kubernetes.host": pos(34),
			"kubernetes.cpu": pos(35), "kubernetes.max_replicas": pos(36), "kubernetes.monitoring": pos(37),
		},
	}
}

func TestAssembleSpecWins(t *testing.T) {
	proj := analyze(t, "procfile")
	p, err := Assemble(fullSpec(proj.Dir), proj)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"gunicorn", "-b", "0.0.0.0:${PORT}", "-w", "4", "app:app"}; !reflect.DeepEqual(p.Run.Command, want) {
		t.Errorf("command = %q, want %q (the spec, not the Procfile)", p.Run.Command, want)
	}
	if e := p.Evidence["run.command"]; e.File != "pyship.toml" || e.Line != 7 || !strings.Contains(e.Rule, "spec [run] command (overrides Procfile web: process at Procfile:3)") {
		t.Errorf("run.command evidence = %+v", e)
	}
	checks := []struct {
		key  string
		got  any
		want any
		line int
	}{
		{"name", p.Name, "shop", 1},
		{"version", p.Version, "2.0.0", 2},
		{"python.version", p.Python.Version, "3.12", 4},
		{"run.port", p.Run.Port, 9000, 8},
		{"run.workers", p.Run.Workers, 4, 9},
		{"health.path", p.Health.Path, "/status", 11},
		{"health.interval", p.Health.Interval, "10s", 12},
		{"health.startupTimeout", p.Health.StartupTimeout, "1m30s", 13},
		{"deploy.target", p.Deploy.Target, "kubernetes", 15},
		{"deploy.replicas", p.Deploy.Replicas, 3, 17},
		{"deploy.rollbackWindow", p.Deploy.RollbackWindow, "1h", 18},
		{"deploy.keepReleases", p.Deploy.KeepReleases, 8, 19},
		{"env.DEBUG", p.Env["DEBUG"], "0", 23},
		{"config", p.Config.Path, "settings", 25},
		{"secretsFile", p.SecretsFile, "/etc/shop.env", 30},
		{"deploy.canary.prometheusUrl", p.Deploy.Canary.PrometheusURL, "http://prom:9090", 22},
		{"kubernetes.namespace", p.Kubernetes.Namespace, "shop", 33},
		{"kubernetes.host", p.Kubernetes.Host, "shop.example.com", 34},
		{"kubernetes.cpu", p.Kubernetes.CPU, "500m", 35},
		{"kubernetes.maxReplicas", p.Kubernetes.MaxReplicas, 2, 36},
		{"kubernetes.monitoring", p.Kubernetes.Monitoring, true, 37},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
		if e := p.Evidence[c.key]; e.File != "pyship.toml" || e.Line != c.line || !strings.HasPrefix(e.Rule, "spec ") {
			t.Errorf("evidence[%s] = %+v, want pyship.toml:%d spec ...", c.key, e, c.line)
		}
	}
	if p.Build.Base != "python:3.12-slim" || p.Health.Timeout != "2s" {
		t.Errorf("base, timeout = %s, %s", p.Build.Base, p.Health.Timeout)
	}
	if want := []DataFolder{{Path: "uploads", Persistent: true}, {Path: "data", Persistent: false}}; !reflect.DeepEqual(p.Data, want) {
		t.Errorf("data = %+v, want %+v (data/ is static because the spec says so)", p.Data, want)
	}
	c := p.Deploy.Canary
	if c == nil || !reflect.DeepEqual(c.Steps, []int{5, 25, 100}) || c.MaxErrorRate != 0.02 || c.Pause != "30s" || c.MinRequests != 50 || c.MaxLatencyRatio != 1.5 {
		t.Errorf("canary = %+v", c)
	}
	if e := p.Evidence["deploy.canary.steps"]; e.Line != 20 {
		t.Errorf("canary steps evidence = %+v", e)
	}
	if p.Env["PORT"] != "9000" {
		t.Errorf("PORT = %q, want the spec's port 9000", p.Env["PORT"])
	}
	if !hasWarning(p.Warnings, "max_replicas 2 is below [deploy] replicas 3") {
		t.Errorf("no warning about max_replicas below replicas: %q", p.Warnings)
	}
	if _, ok := p.Evidence["kubernetes.context"]; ok || p.Kubernetes.Context != "" {
		t.Error("kubernetes.context has evidence or a value though the spec does not set it")
	}
}

func TestAssemblePortRules(t *testing.T) {
	proj := analyze(t, "flask-gunicorn")
	tests := []struct {
		name    string
		run     spec.Run
		port    int
		rule    string
		warning string
	}{
		{"default", spec.Run{}, 8000, "default", ""},
		{"command binds", spec.Run{Command: "gunicorn --bind :5005 app:app"}, 5005, "the start command binds port 5005", ""},
		{"spec port, command binds env", spec.Run{Command: "uvicorn --port $PORT app:app", Port: 7000}, 7000, "spec [run] port", ""},
		{"spec port vs literal bind", spec.Run{Command: "gunicorn -b 0.0.0.0:5005 app:app", Port: 7000}, 7000, "spec [run] port", "binds port 5005 but [run] port is 7000"},
		{"worker has no port", spec.Run{Command: "celery -A tasks worker", Port: 7000}, 0, "", "the app is a worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Assemble(&spec.Spec{Run: tt.run, File: proj.Dir + "/pyship.toml"}, proj)
			if err != nil {
				t.Fatal(err)
			}
			if p.Run.Port != tt.port || p.Evidence["run.port"].Rule != tt.rule {
				t.Errorf("port = %d (%+v), want %d (%s)", p.Run.Port, p.Evidence["run.port"], tt.port, tt.rule)
			}
			if tt.warning != "" && !hasWarning(p.Warnings, tt.warning) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.warning)
			}
		})
	}
}

func TestAssembleWorker(t *testing.T) {
	p, err := Assemble(&spec.Spec{}, analyze(t, "worker"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Run.Kind != "worker" || p.Run.Port != 0 || p.Health.Type != "process" || p.Health.Path != "" {
		t.Errorf("run, health = %+v, %+v; want a worker with a process check", p.Run, p.Health)
	}
	if _, ok := p.Env["PORT"]; ok {
		t.Error("a worker got PORT")
	}
	if p.Dependencies.Kind != "requirements" || p.Dependencies.Requirements[0].Version != "5.0.4" {
		t.Errorf("dependencies = %+v", p.Dependencies)
	}
}

func TestAssembleSrcLayoutAndPython(t *testing.T) {
	p, err := Assemble(&spec.Spec{}, analyze(t, "fastapi-src"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Run.PythonPath, []string{"src"}) || p.Run.Server != "uvicorn" || p.Name != "my-service" || p.Version != "1.4.0" {
		t.Errorf("run = %+v, name %s, version %s", p.Run, p.Name, p.Version)
	}
	if p.Python.Version != "3.12" || p.Evidence["python.version"].Rule != "lowest minor allowed by requires-python" {
		t.Errorf("python = %s (%+v)", p.Python.Version, p.Evidence["python.version"])
	}
	sp := &spec.Spec{Build: spec.Build{Python: "3.13"}, File: p.Dir + "/pyship.toml",
		Positions: map[string]spec.Pos{"build.python": {File: p.Dir + "/pyship.toml", Line: 3}}}
	q, err := Assemble(sp, analyze(t, "fastapi-src"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Python.Version != "3.13" || q.Build.Base != "python:3.13-slim" || !hasWarning(q.Warnings, "the spec asks for Python 3.13") {
		t.Errorf("python = %s, base %s, warnings %q", q.Python.Version, q.Build.Base, q.Warnings)
	}
}

func TestAssembleErrors(t *testing.T) {
	_, err := Assemble(&spec.Spec{}, analyze(t, "noentry"))
	if !errors.Is(err, detect.ErrNoEntrypoint) {
		t.Fatalf("error = %v, want ErrNoEntrypoint", err)
	}
	msg := err.Error()
	if i, j := strings.Index(msg, "1. [run] command in pyship.toml"), strings.Index(msg, "2. Procfile"); i < 0 || j < i {
		t.Errorf("error does not list the spec first, then the Procfile:\n%s", msg)
	}
	if !strings.Contains(msg, "add a Procfile") {
		t.Errorf("error does not say how to declare one:\n%s", msg)
	}
	// a spec command makes a project without entry point fine
	p, err := Assemble(&spec.Spec{Run: spec.Run{Command: "python -m lib.util"}}, analyze(t, "noentry"))
	if err != nil || p.Run.Kind != "worker" {
		t.Errorf("with a spec command: %v, kind %q", err, p.Run.Kind)
	}
	_, err = Assemble(&spec.Spec{}, analyze(t, "flask-noserver-nomain"))
	if err == nil || !strings.Contains(err.Error(), "add gunicorn to requirements.txt") {
		t.Errorf("error = %v, want one naming gunicorn", err)
	}
	_, err = Assemble(&spec.Spec{Run: spec.Run{Command: `gunicorn "app:app`}, File: "/x/pyship.toml",
		Positions: map[string]spec.Pos{"run.command": {File: "/x/pyship.toml", Line: 4}}}, analyze(t, "worker"))
	if err == nil || !strings.Contains(err.Error(), "pyship.toml:4: [run] command") {
		t.Errorf("error = %v, want one at pyship.toml:4", err)
	}
}

func TestAssembleNoServerFallback(t *testing.T) {
	p, err := Assemble(&spec.Spec{}, analyze(t, "flask-noserver"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Run.Shell != "python app.py" || p.Run.Server != "" || p.Run.Port != 5000 || !hasWarning(p.Warnings, "add gunicorn") {
		t.Errorf("run = %+v, warnings %q", p.Run, p.Warnings)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{10 * time.Minute: "10m", time.Hour: "1h", 90 * time.Second: "1m30s",
		2500 * time.Millisecond: "2.5s", 90 * time.Minute: "1h30m"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// A spec whose command passes one worker count and whose workers key says another gets a
// warning naming both places; agreeing values, or workers alone, get none.
func TestCommandWorkersDisagreeingWithWorkers(t *testing.T) {
	proj := analyze(t, "procfile")
	for _, tc := range []struct {
		command string
		workers int
		warn    string
	}{
		{"gunicorn -b 0.0.0.0:$PORT -w 2 app:app", 4, "pyship.toml:7: [run] command passes 2 workers but pyship.toml:9 sets workers = 4"},
		{"gunicorn -b 0.0.0.0:$PORT --workers=3 app:app", 4, "passes 3 workers"},
		{"uvicorn --workers 1 app:app", 4, "passes 1 workers"},
		{"gunicorn -b 0.0.0.0:$PORT -w4 app:app", 4, ""},
		{"gunicorn -b 0.0.0.0:$PORT app:app", 4, ""},
		{"python app.py --workers 2", 4, ""},
	} {
		sp := fullSpec(proj.Dir)
		sp.Run.Command, sp.Run.Workers = tc.command, tc.workers
		p, err := Assemble(sp, proj)
		if err != nil {
			t.Fatal(err)
		}
		testsvc.WantOneWarning(t, p.Warnings, tc.warn, "workers")
	}
}

// TestAssembleEdgeTLS: [edge] TLS keys reach the plan ("off" is no TLS); keys of another mode
// are warned about, not silently ignored.
func TestAssembleEdgeTLS(t *testing.T) {
	proj := analyze(t, "procfile")
	sp := fullSpec(proj.Dir)
	sp.Edge = spec.Edge{Hosts: []string{"shop.example.com"}, TLS: "acme", ACMEEmail: "ops@example.com", CertFile: "/etc/ssl/x.pem", HSTS: 600}
	p, err := Assemble(sp, proj)
	if err != nil {
		t.Fatal(err)
	}
	if e := p.Edge; e == nil || e.TLS != "acme" || e.ACMEEmail != "ops@example.com" || e.HSTS != 600 {
		t.Errorf("edge = %+v", e)
	}
	if !hasWarning(p.Warnings, `[edge] cert_file has no effect unless tls = "files"`) {
		t.Errorf("no warning about cert_file with acme: %q", p.Warnings)
	}
	sp.Edge = spec.Edge{Hosts: []string{"shop.example.com"}, TLS: "off", HSTS: 600}
	if p, err = Assemble(sp, proj); err != nil || p.Edge == nil || p.Edge.TLS != "" || !hasWarning(p.Warnings, "[edge] hsts has no effect") {
		t.Errorf("tls = off: %+v %v %q", p.Edge, err, p.Warnings)
	}
}
