package detect

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEntryDetection(t *testing.T) {
	tests := []struct {
		project    string
		command    []string // the full argv (served apps: with 2 workers)
		kind       string
		framework  string
		server     string
		app        string
		port       int
		entrypoint string
		pythonPath []string
		evidence   Evidence
		warning    string
	}{
		{project: "flask-gunicorn", command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "app:app"},
			kind: "web", framework: "flask", server: "gunicorn", app: "app:app", entrypoint: "app.py",
			evidence: Evidence{File: "app.py", Line: 6, Rule: "Flask application object"}},
		{project: "flask-noserver", command: []string{"python", "app.py"}, kind: "web", framework: "flask", app: "app:app",
			port: 5000, entrypoint: "app.py", evidence: Evidence{File: "app.py", Line: 11, Rule: "Flask application object run as a script (no gunicorn in the dependencies)"},
			warning: "add gunicorn to requirements.txt"},
		{project: "fastapi-src", command: []string{"uvicorn", "--host", "0.0.0.0", "--port", "${PORT}", "--workers", "2", "my_service.main:app"},
			kind: "web", framework: "fastapi", server: "uvicorn", app: "my_service.main:app", entrypoint: "src/my_service/main.py",
			pythonPath: []string{"src"}, evidence: Evidence{File: "src/my_service/main.py", Line: 4, Rule: "FastAPI application object"}},
		{project: "django-asgi", command: []string{"uvicorn", "--host", "0.0.0.0", "--port", "${PORT}", "--workers", "2", "mysite.asgi:application"},
			kind: "web", framework: "django", server: "uvicorn", app: "mysite.asgi:application", entrypoint: "mysite/asgi.py",
			evidence: Evidence{File: "mysite/settings.py", Line: 4, Rule: "Django ASGI_APPLICATION"}},
		{project: "django-wsgi", command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "shop.wsgi:application"},
			kind: "web", framework: "django", server: "gunicorn", app: "shop.wsgi:application", entrypoint: "shop/wsgi.py",
			evidence: Evidence{File: "shop/settings/base.py", Line: 2, Rule: "Django WSGI_APPLICATION"}},
		{project: "django-wsgi-file", command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "blog.wsgi:application"},
			kind: "web", framework: "django", server: "gunicorn", app: "blog.wsgi:application", entrypoint: "blog/wsgi.py",
			evidence: Evidence{File: "blog/wsgi.py", Line: 6, Rule: "Django wsgi.py application (no WSGI_APPLICATION in the settings)"}},
		{project: "django-noserver", command: []string{"python", "manage.py", "runserver", "--noreload", "0.0.0.0:${PORT}"},
			kind: "web", framework: "django", entrypoint: "manage.py",
			evidence: Evidence{File: "manage.py", Rule: "Django manage.py runserver (no WSGI/ASGI server in the dependencies)"},
			warning:  "add uvicorn to requirements.txt"},
		{project: "flask-factory", command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "myapp:create_app()"},
			kind: "web", framework: "flask", server: "gunicorn", app: "myapp:create_app()", entrypoint: "myapp/__init__.py",
			evidence: Evidence{File: "myapp/__init__.py", Line: 5, Rule: "Flask application factory create_app()"}},
		{project: "fastapi-factory", command: []string{"uvicorn", "--host", "0.0.0.0", "--port", "${PORT}", "--workers", "2", "--factory", "service.api:make_app"},
			kind: "web", framework: "fastapi", server: "uvicorn", app: "service.api:make_app()", entrypoint: "service/api.py",
			evidence: Evidence{File: "service/api.py", Line: 5, Rule: "FastAPI application factory make_app()"}},
		{project: "wsgi-callable", command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", "2", "wsgi:application"},
			kind: "web", framework: "wsgi", server: "gunicorn", app: "wsgi:application", entrypoint: "wsgi.py",
			evidence: Evidence{File: "wsgi.py", Line: 1, Rule: "WSGI callable application(environ, start_response)"}},
		{project: "asgi-callable", command: []string{"uvicorn", "--host", "0.0.0.0", "--port", "${PORT}", "--workers", "2", "asgi:app"},
			kind: "web", framework: "asgi", server: "uvicorn", app: "asgi:app", entrypoint: "asgi.py",
			evidence: Evidence{File: "asgi.py", Line: 1, Rule: "ASGI callable app(scope, receive, send)"}},
		{project: "worker", command: []string{"python", "main.py"}, kind: "worker", framework: "plain", entrypoint: "main.py",
			evidence: Evidence{File: "main.py", Rule: "main.py run as a script"}},
		{project: "script-web", command: []string{"python", "server.py"}, kind: "web", framework: "plain", entrypoint: "server.py",
			evidence: Evidence{File: "server.py", Rule: "server.py run as a script"}},
		{project: "scripts", command: []string{"python", "-c", "import sys; from ticker.cli import main; sys.exit(main())"},
			kind: "worker", framework: "plain", entrypoint: "ticker/cli.py",
			evidence: Evidence{File: "pyproject.toml", Line: 6, Rule: "[project.scripts] ticker"}},
		{project: "procfile", command: []string{"gunicorn", "app:app", "--bind", "0.0.0.0:${PORT}", "--workers", "3"},
			kind: "web", framework: "flask", server: "gunicorn", app: "app:app", entrypoint: "app.py",
			evidence: Evidence{File: "Procfile", Line: 3, Rule: "Procfile web: process"}},
		{project: "procfile-worker", command: []string{"celery", "-A", "tasks", "worker", "--loglevel=info"},
			kind: "worker", framework: "plain",
			evidence: Evidence{File: "Procfile", Line: 1, Rule: "Procfile worker: process"}},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			p := analyze(t, copyProject(t, tt.project))
			if p.EntryErr != nil {
				t.Fatalf("EntryErr = %v", p.EntryErr)
			}
			e := p.Entry
			cmd := e.Command
			if cmd == nil {
				cmd = ServerCommand(e.Server, e.App, 2)
			}
			if !reflect.DeepEqual(cmd, tt.command) {
				t.Errorf("command = %q, want %q", cmd, tt.command)
			}
			got := []any{e.Kind, e.Framework, e.Server, e.App, e.Port, e.Entrypoint}
			want := []any{tt.kind, tt.framework, tt.server, tt.app, tt.port, tt.entrypoint}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("kind, framework, server, app, port, entrypoint = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(e.PythonPath, tt.pythonPath) {
				t.Errorf("python path = %q, want %q", e.PythonPath, tt.pythonPath)
			}
			if e.Evidence != tt.evidence {
				t.Errorf("evidence = %+v, want %+v", e.Evidence, tt.evidence)
			}
			if tt.warning != "" && !hasWarning(p.Warnings, tt.warning) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.warning)
			}
			noMissingServerClaim(t, p)
		})
	}
}

// noMissingServerClaim fails when a warning asks to add a server that is in the dependencies.
func noMissingServerClaim(t *testing.T, p *Project) {
	t.Helper()
	for _, srv := range []string{"gunicorn", "uvicorn"} {
		for _, w := range p.Warnings {
			if p.hasDep(srv) && strings.Contains(w, "add "+srv+" to") {
				t.Errorf("warning %q asks to add %s, which is in the dependencies", w, srv)
			}
		}
	}
}

// A Django project with gunicorn but neither WSGI_APPLICATION nor a wsgi.py falls back to the
// development server, and the warning says what is missing, not that gunicorn is.
func TestDjangoWithGunicornButNoWSGIApplication(t *testing.T) {
	dir := copyProject(t, "django-wsgi-file")
	if err := os.Remove(filepath.Join(dir, "blog", "wsgi.py")); err != nil {
		t.Fatal(err)
	}
	p := analyze(t, dir)
	if p.Entry == nil || p.Entry.Server != "" || p.Entry.Entrypoint != "manage.py" {
		t.Fatalf("entry = %+v, %v; want Django's development server", p.Entry, p.EntryErr)
	}
	if !hasWarning(p.Warnings, "gunicorn is in the dependencies but blog/settings.py sets no WSGI_APPLICATION and there is no blog/wsgi.py") {
		t.Errorf("warnings = %q", p.Warnings)
	}
	noMissingServerClaim(t, p)
}

func TestEntryErrors(t *testing.T) {
	tests := []struct {
		project string
		is      error
		want    []string
	}{
		{"noentry", ErrNoEntrypoint, []string{"Procfile", "manage.py", "Flask(", "[project.scripts]", "main.py, app.py or server.py", "[run] command in pyship.toml"}},
		{"flask-noserver-nomain", nil, []string{"web.py:3", "Flask application object web:application", "add gunicorn to requirements.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			p := analyze(t, copyProject(t, tt.project))
			if p.Entry != nil || p.EntryErr == nil {
				t.Fatalf("Entry = %+v, EntryErr = %v; want an error", p.Entry, p.EntryErr)
			}
			if tt.is != nil && !errors.Is(p.EntryErr, tt.is) {
				t.Errorf("error %v is not %v", p.EntryErr, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.EntryErr.Error(), w) {
					t.Errorf("error %q lacks %q", p.EntryErr, w)
				}
			}
		})
	}
}

func TestHealthAndPortEvidence(t *testing.T) {
	tests := []struct {
		project string
		health  Fact[string]
		portEnv []Evidence
	}{
		{"flask-gunicorn", Fact[string]{"/healthz", Evidence{File: "app.py", Line: 15, Rule: "health route /healthz in the source"}},
			[]Evidence{{File: "app.py", Line: 7, Rule: "reads $PORT"}}},
		{"fastapi-src", Fact[string]{"/health", Evidence{File: "src/my_service/main.py", Line: 12, Rule: "health route /health in the source"}}, nil},
		{"django-asgi", Fact[string]{"/healthz", Evidence{File: "mysite/urls.py", Line: 5, Rule: "health route /healthz in the source"}}, nil},
		{"flask-factory", Fact[string]{"/ready", Evidence{File: "myapp/__init__.py", Line: 7, Rule: "health route /ready in the source"}}, nil},
		{"script-web", Fact[string]{}, []Evidence{{File: "server.py", Line: 6, Rule: "reads $PORT"}}},
		{"worker", Fact[string]{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			p := analyze(t, copyProject(t, tt.project))
			if p.HealthPath != tt.health {
				t.Errorf("health = %+v, want %+v", p.HealthPath, tt.health)
			}
			if !reflect.DeepEqual(p.PortEnv, tt.portEnv) {
				t.Errorf("PORT use = %+v, want %+v", p.PortEnv, tt.portEnv)
			}
		})
	}
}

func TestSeveralAppsWarns(t *testing.T) {
	dir := writeProject(t, "two", map[string]string{
		"requirements.txt": "flask\ngunicorn\n",
		"app.py":           "from flask import Flask\napp = Flask(__name__)\n",
		"admin/app.py":     "from flask import Flask\nadmin = Flask(__name__)\n",
	})
	p := analyze(t, dir)
	if p.App == nil || p.App.Ref != "app:app" {
		t.Fatalf("app = %+v, want app:app (top-level app.py wins)", p.App)
	}
	if !hasWarning(p.Warnings, "admin.app:admin (admin/app.py:2)") {
		t.Errorf("warnings %q do not name the other app", p.Warnings)
	}
}

func TestDescribe(t *testing.T) {
	p := analyze(t, copyProject(t, "flask-gunicorn"))
	tests := []struct {
		argv      []string
		process   string
		kind      string
		framework string
		server    string
		app       string
		port      int
	}{
		{[]string{"gunicorn", "-w", "4", "-b", "0.0.0.0:9000", "app:app"}, "", "web", "flask", "gunicorn", "app:app", 9000},
		{[]string{"python", "-m", "uvicorn", "--port", "${PORT}", "other:api"}, "", "web", "asgi", "uvicorn", "other:api", 0},
		{[]string{"celery", "-A", "tasks", "worker"}, "", "worker", "plain", "", "", 0},
		{[]string{"python", "job.py"}, "worker", "worker", "plain", "", "", 0},
		{[]string{"./start.sh"}, "", "web", "flask", "", "", 0},
	}
	for _, tt := range tests {
		e := p.Describe(tt.argv, tt.process)
		got := []any{e.Kind, e.Framework, e.Server, e.App, e.Port}
		want := []any{tt.kind, tt.framework, tt.server, tt.app, tt.port}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Describe(%q) = %v, want %v", tt.argv, got, want)
		}
	}
}

func TestSingleMainScript(t *testing.T) {
	p := analyze(t, writeProject(t, "w", map[string]string{
		"worker.py": "import time\n\n\ndef main():\n    time.sleep(1)\n\n\nif __name__ == \"__main__\":\n    main()\n",
		"lib.py":    "X = 1\n",
	}))
	if p.Entry == nil || p.Entry.Kind != "worker" || JoinCommand(p.Entry.Command) != "python worker.py" || p.Entry.Evidence.Line != 8 {
		t.Fatalf("entry = %+v, err %v; want python worker.py from line 8", p.Entry, p.EntryErr)
	}
	q := analyze(t, writeProject(t, "w", map[string]string{
		"a.py": "if __name__ == \"__main__\":\n    pass\n",
		"b.py": "if __name__ == \"__main__\":\n    pass\n",
	}))
	if q.Entry != nil || q.EntryErr == nil || !strings.Contains(q.EntryErr.Error(), "found several scripts, a.py, b.py") {
		t.Errorf("entry = %+v, err %v; want an error naming a.py and b.py", q.Entry, q.EntryErr)
	}
}

func TestHealthRouteInComparison(t *testing.T) {
	p := analyze(t, writeProject(t, "s", map[string]string{
		"main.py": "from http.server import HTTPServer\n\ndef route(path):\n    if path == \"/livez\":\n        return 200\n\nHTTPServer(('', 8000), None).serve_forever()\n",
	}))
	if p.HealthPath.Value != "/livez" || p.HealthPath.Evidence.Line != 4 {
		t.Errorf("health = %+v, want /livez at line 4", p.HealthPath)
	}
	if p.Entry == nil || p.Entry.Kind != "web" {
		t.Errorf("entry = %+v, want a web script", p.Entry)
	}
}

func TestOtherFrameworks(t *testing.T) {
	tests := []struct {
		name, file, src, deps  string
		framework, server, app string
	}{
		{"starlette", "web/app.py", "from starlette.applications import Starlette\n\napp = Starlette(routes=[])\n", "starlette\nuvicorn\n", "starlette", "uvicorn", "web.app:app"},
		{"quart", "main.py", "from quart import Quart\nservice = Quart(__name__)\n", "quart\nuvicorn\n", "asgi", "uvicorn", "main:service"},
		{"falcon", "api.py", "import falcon\n\napi = falcon.App()\n", "falcon\ngunicorn\n", "wsgi", "gunicorn", "api:api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := analyze(t, writeProject(t, tt.name, map[string]string{tt.file: tt.src, "requirements.txt": tt.deps}))
			if p.Entry == nil {
				t.Fatalf("no entry: %v", p.EntryErr)
			}
			if got := []string{p.Entry.Framework, p.Entry.Server, p.Entry.App}; !reflect.DeepEqual(got, []string{tt.framework, tt.server, tt.app}) {
				t.Errorf("framework, server, app = %q, want %q", got, []string{tt.framework, tt.server, tt.app})
			}
		})
	}
}

func TestASGINeedsUvicorn(t *testing.T) {
	p := analyze(t, writeProject(t, "fa", map[string]string{
		"main.py":          "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\nif __name__ == \"__main__\":\n    uvicorn.run(app, port=8001)\n",
		"requirements.txt": "fastapi\n",
	}))
	if p.Entry == nil || JoinCommand(p.Entry.Command) != "python main.py" || p.Entry.Port != 8001 {
		t.Fatalf("entry = %+v, err %v; want python main.py on 8001", p.Entry, p.EntryErr)
	}
	if !hasWarning(p.Warnings, "add uvicorn to requirements.txt") {
		t.Errorf("warnings %q do not name uvicorn", p.Warnings)
	}
}

func TestFastAPIStandardBringsUvicorn(t *testing.T) {
	p := analyze(t, writeProject(t, "fs", map[string]string{
		"main.py":          "from fastapi import FastAPI\napp = FastAPI()\n",
		"requirements.txt": "fastapi[standard]>=0.110\n",
	}))
	if p.Entry == nil || p.Entry.Server != "uvicorn" || p.Entry.App != "main:app" {
		t.Errorf("entry = %+v, err %v; want uvicorn main:app", p.Entry, p.EntryErr)
	}
}
