package plan

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// resolve runs Resolve on a copied project; it skips while spec.Load is not implemented.
func resolve(t *testing.T, name, env string) *Plan {
	t.Helper()
	p, err := Resolve(context.Background(), copyProject(t, name), Options{Env: env})
	if err != nil && strings.Contains(err.Error(), "not implemented") {
		t.Skipf("spec.Load is not implemented yet: %v", err)
	}
	if err != nil {
		t.Fatalf("Resolve(%s): %v", name, err)
	}
	return p
}

func TestResolveWithSpecFile(t *testing.T) {
	p := resolve(t, "resolve-shop", "")
	if p.Name != "shop" || p.Run.Port != 9000 || p.Health.Path != "/status" || p.Env["LOG_LEVEL"] != "info" {
		t.Errorf("name, port, health path, LOG_LEVEL = %s, %d, %s, %q", p.Name, p.Run.Port, p.Health.Path, p.Env["LOG_LEVEL"])
	}
	if p.Run.Shell != "gunicorn shop:app --bind 0.0.0.0:${PORT}" || p.Evidence["run.command"] != (Evidence{File: "Procfile", Line: 1, Rule: "Procfile web: process"}) {
		t.Errorf("command %q from %+v, want the Procfile's", p.Run.Shell, p.Evidence["run.command"])
	}
	want := map[string]Evidence{
		"name":            {File: "pyship.toml", Line: 1, Rule: "spec name"},
		"run.port":        {File: "pyship.toml", Line: 4, Rule: "spec [run] port"},
		"health.path":     {File: "pyship.toml", Line: 7, Rule: "spec [health] path"},
		"deploy.strategy": {File: "pyship.toml", Line: 10, Rule: "spec [deploy] strategy"},
		"env.LOG_LEVEL":   {File: "pyship.toml", Line: 13, Rule: "spec [env] LOG_LEVEL"},
	}
	for k, w := range want {
		if got := p.Evidence[k]; got != w {
			t.Errorf("evidence[%s] = %+v, want %+v", k, got, w)
		}
	}
	if p.Deploy.Canary == nil || p.Deploy.Canary.MinRequests != 50 {
		t.Errorf("canary = %+v, want the defaults", p.Deploy.Canary)
	}
	if p.Deploy.Replicas != 1 || p.Run.Workers != 2 || p.Environment != "" {
		t.Errorf("replicas, workers, environment = %d, %d, %q without the overlay", p.Deploy.Replicas, p.Run.Workers, p.Environment)
	}
}

func TestResolveOverlay(t *testing.T) {
	p := resolve(t, "resolve-shop", "production")
	if p.Deploy.Replicas != 3 || p.Run.Workers != 8 || p.Environment != "production" {
		t.Errorf("replicas, workers, environment = %d, %d, %q; want 3, 8, production", p.Deploy.Replicas, p.Run.Workers, p.Environment)
	}
	if e := p.Evidence["run.workers"]; e != (Evidence{File: "pyship.toml", Line: 19, Rule: "spec [env.production.run] workers"}) {
		t.Errorf("run.workers evidence = %+v, want pyship.toml:19, naming the overlay", e)
	}
	if e := p.Evidence["run.port"]; e != (Evidence{File: "pyship.toml", Line: 4, Rule: "spec [run] port"}) {
		t.Errorf("run.port evidence = %+v, want the base spec's (the overlay does not set it)", e)
	}
}

func TestResolveToolPyship(t *testing.T) {
	p := resolve(t, "resolve-pyproject", "")
	if p.Run.Shell != "uvicorn api:app --port 7000" || p.Run.Port != 7000 || p.Run.Framework != "fastapi" || p.Run.Server != "uvicorn" {
		t.Errorf("run = %+v", p.Run)
	}
	if e := p.Evidence["run.command"]; e.File != "pyproject.toml" || e.Line != 7 {
		t.Errorf("run.command evidence = %+v, want pyproject.toml:7", e)
	}
	if p.Name != "inline" || p.Version != "0.1.0" {
		t.Errorf("name, version = %s, %s", p.Name, p.Version)
	}
}

func TestResolveNoEntrypoint(t *testing.T) {
	_, err := Resolve(context.Background(), copyProject(t, "noentry"), Options{})
	if err != nil && strings.Contains(err.Error(), "not implemented") {
		t.Skip("spec.Load is not implemented yet")
	}
	if err == nil || !strings.Contains(err.Error(), "looked for, in order") {
		t.Errorf("error = %v, want the list of what was looked for", err)
	}
}

// TestResolveSpecPythonAgainstRequiresPython: a [build] python outside requires-python still
// wins, with a warning naming both places.
func TestResolveSpecPythonAgainstRequiresPython(t *testing.T) {
	for _, tc := range []struct {
		python, requires string
		warn             string
	}{
		{"3.12", ">=3.9,<3.11", `pyship.toml:3: [build] python 3.12 does not satisfy requires-python ">=3.9,<3.11" (pyproject.toml:3)`},
		{"3.10.4", ">=3.9,<3.11", ""},
		{"3.9", ">=3.9,!=3.9.*", `[build] python 3.9 does not satisfy requires-python ">=3.9,!=3.9.*"`},
	} {
		t.Run(tc.python+" "+tc.requires, func(t *testing.T) {
			dir := testsvc.WriteTree(t, map[string]string{
				"pyship.toml":    "name = \"x\"\n[build]\npython = \"" + tc.python + "\"\n",
				"pyproject.toml": "[project]\nname = \"x\"\nrequires-python = \"" + tc.requires + "\"\n",
				"main.py":        "print('hi')\n",
			})
			p, err := Resolve(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Python.Version != tc.python {
				t.Errorf("python = %s, want the spec's %s", p.Python.Version, tc.python)
			}
			testsvc.WantOneWarning(t, p.Warnings, tc.warn, "requires-python")
		})
	}
}

// TestResolvePortBoundInCode: an app whose code binds a literal port gets that port, with
// evidence at the line that binds it and a warning that it ignores $PORT.
func TestResolvePortBoundInCode(t *testing.T) {
	const handler = "from http.server import HTTPServer, BaseHTTPRequestHandler\n\nclass H(BaseHTTPRequestHandler):\n    pass\n\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		port  int
		ev    Evidence
		warn  string // "" when none about the port is wanted
	}{
		{"HTTPServer address tuple", map[string]string{"server.py": handler + "HTTPServer((\"0.0.0.0\", 5000), H).serve_forever()\n"},
			5000, Evidence{File: "server.py", Line: 6, Rule: "the app's code binds port 5000 and ignores $PORT (HTTPServer() binds port 5000)"},
			"server.py:6: the app binds port 5000 in its code and ignores $PORT: the image and Kubernetes use port 5000, but the local target gives each replica its own $PORT"},
		{"module constant", map[string]string{"server.py": "import socketserver, http.server\n\nPORT = 9090\n\nwith socketserver.TCPServer((\"\", PORT), http.server.SimpleHTTPRequestHandler) as httpd:\n    httpd.serve_forever()\n"},
			9090, Evidence{File: "server.py", Line: 3, Rule: "the app's code binds port 9090 and ignores $PORT (PORT = 9090, the port TCPServer() binds)"},
			"server.py:3: the app binds port 9090 in its code and ignores $PORT"},
		{"constant not passed directly", map[string]string{"server.py": handler + "SERVER_PORT = 7070\nADDR = (\"\", SERVER_PORT)\nHTTPServer(ADDR, H).serve_forever()\n"},
			7070, Evidence{File: "server.py", Line: 6, Rule: "the app's code binds port 7070 and ignores $PORT (SERVER_PORT = 7070 in the server's module)"},
			`read the port from $PORT (e.g. int(os.environ.get("PORT", "7070")))`},
		{"flask app.run keyword", map[string]string{"requirements.txt": "flask\n",
			"app.py": "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5001)\n"},
			5001, Evidence{File: "app.py", Line: 5, Rule: "the app's code binds port 5001 and ignores $PORT (app.run() binds port 5001)"},
			"app.py:5: the app binds port 5001 in its code"},
		{"flask app.run default", map[string]string{"requirements.txt": "flask\n",
			"app.py": "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(debug=True)\n"},
			5000, Evidence{File: "app.py", Line: 5, Rule: "the app's code binds port 5000 and ignores $PORT (app.run() binds its default port 5000)"},
			"app.py:5: the app binds port 5000 in its code"},
		{"flask app.run port from the environment", map[string]string{"requirements.txt": "flask\n",
			"app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=int(os.environ[\"PORT\"]))\n"},
			8000, Evidence{Rule: "default", Note: "the app reads $PORT at app.py:6"}, ""},
		{"uvicorn.run keyword constant", map[string]string{"requirements.txt": "fastapi\n",
			"main.py": "import uvicorn\nfrom fastapi import FastAPI\n\nPORT = 8081\napp = FastAPI()\n\nif __name__ == \"__main__\":\n    uvicorn.run(app, host=\"0.0.0.0\", port=PORT)\n"},
			8081, Evidence{File: "main.py", Line: 4, Rule: "the app's code binds port 8081 and ignores $PORT (PORT = 8081, the port uvicorn.run() binds)"},
			"main.py:4: the app binds port 8081"},
		{"aiohttp default port", map[string]string{"requirements.txt": "aiohttp\n",
			"app.py": "from aiohttp import web\n\napp = web.Application()\nweb.run_app(app)\n"},
			8080, Evidence{File: "app.py", Line: 4, Rule: "the app's code binds port 8080 and ignores $PORT (run_app() binds its default port 8080)"},
			"app.py:4: the app binds port 8080"},
		{"make_server second argument", map[string]string{"main.py": "from wsgiref.simple_server import make_server\n\ndef application(environ, start_response):\n    pass\n\nif __name__ == \"__main__\":\n    make_server(\"\", 8500, application).serve_forever()\n"},
			8500, Evidence{File: "main.py", Line: 7, Rule: "the app's code binds port 8500 and ignores $PORT (make_server() binds port 8500)"},
			"main.py:7: the app binds port 8500"},
		{"Procfile runs the script", map[string]string{"Procfile": "web: python server.py\n", "server.py": handler + "HTTPServer((\"\", 5002), H).serve_forever()\n"},
			5002, Evidence{File: "server.py", Line: 6, Rule: "the app's code binds port 5002 and ignores $PORT (HTTPServer() binds port 5002)"},
			"server.py:6: the app binds port 5002"},
		{"reads $PORT", map[string]string{"main.py": "import os\nfrom wsgiref.simple_server import make_server\n\ndef application(environ, start_response):\n    pass\n\nif __name__ == \"__main__\":\n    make_server(\"\", int(os.environ.get(\"PORT\", \"8000\")), application).serve_forever()\n"},
			8000, Evidence{Rule: "default", Note: "the app reads $PORT at main.py:8"}, ""},
		{"constant as the $PORT fallback", map[string]string{"server.py": handler + "import os\nPORT = 8080\nport = int(os.environ.get(\"PORT\", PORT))\nHTTPServer((\"\", port), H).serve_forever()\n"},
			8000, Evidence{Rule: "default", Note: "the app reads $PORT at server.py:8"}, ""},
		{"spec port agrees", map[string]string{"pyship.toml": "[run]\nport = 5000\n", "server.py": handler + "HTTPServer((\"0.0.0.0\", 5000), H).serve_forever()\n"},
			5000, Evidence{File: "pyship.toml", Line: 2, Rule: "spec [run] port"},
			"server.py:6: the app binds port 5000 in its code and ignores $PORT: the local target gives each replica its own $PORT and cannot run the app"},
		{"spec port disagrees", map[string]string{"pyship.toml": "[run]\nport = 6000\n", "server.py": handler + "HTTPServer((\"0.0.0.0\", 5000), H).serve_forever()\n"},
			6000, Evidence{File: "pyship.toml", Line: 2, Rule: "spec [run] port"},
			"server.py:6: the app binds port 5000 in its code but [run] port is 6000 (pyship.toml:2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(context.Background(), testsvc.WriteTree(t, tc.files), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Run.Kind != "web" || p.Run.Port != tc.port || p.Env["PORT"] != strconv.Itoa(tc.port) {
				t.Errorf("kind %s port %d PORT=%s, want web on %d", p.Run.Kind, p.Run.Port, p.Env["PORT"], tc.port)
			}
			if got := p.Evidence["run.port"]; got != tc.ev {
				t.Errorf("run.port evidence = %+v\nwant %+v", got, tc.ev)
			}
			testsvc.WantOneWarning(t, p.Warnings, tc.warn, "port")
		})
	}
}

func TestResolveHealthPathOnWorkerWarns(t *testing.T) {
	p, err := Resolve(context.Background(), testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"w\"\n[health]\npath = \"/healthz\"\n",
		"main.py":     "import time\ntime.sleep(1)\n",
	}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Run.Kind != "worker" || p.Health.Type != "process" || p.Health.Path != "" {
		t.Fatalf("kind %s, health %+v; want a worker with a process check", p.Run.Kind, p.Health)
	}
	testsvc.WantOneWarning(t, p.Warnings, `pyship.toml:3: [health] path "/healthz" is ignored: the app is a worker`, "[health] path")
}

// A flag that stands for a spec key resolves as the key would: --strategy canary keeps the
// spec's [deploy.canary] table, with evidence naming the flag, and a canary on Kubernetes that
// measures nothing is said to.
func TestFlagsResolveAsTheirSpecKeys(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"app.py":      "print('worker')\n",
		"pyship.toml": "[deploy]\nstrategy = \"rolling\"\n[deploy.canary]\nsteps = [20, 100]\npause = \"45s\"\n",
	})
	p, err := Resolve(context.Background(), dir, Options{Strategy: "canary", Target: "kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Deploy.Strategy != "canary" || p.Deploy.Canary == nil || !reflect.DeepEqual(p.Deploy.Canary.Steps, []int{20, 100}) || p.Deploy.Canary.Pause != "45s" {
		t.Fatalf("deploy = %+v, canary %+v; want the spec's canary table", p.Deploy, p.Deploy.Canary)
	}
	if ev := p.Evidence["deploy.strategy"]; ev.Rule != "flag --strategy (overrides the spec)" {
		t.Errorf("strategy evidence = %+v", ev)
	}
	testsvc.WantOneWarning(t, p.Warnings, "each step only waits 45s with its pods healthy", "prometheus_url")
	testsvc.WantOneWarning(t, p.Warnings, "", "is ignored because the strategy is")

	// A plan document gets the same: the default canary when it had none.
	q, err := Resolve(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.Deploy.Canary = nil
	q.Override(Options{Strategy: "canary"})
	if q.Deploy.Canary == nil || !reflect.DeepEqual(*q.Deploy.Canary, DefaultCanary()) {
		t.Errorf("overridden plan document canary = %+v", q.Deploy.Canary)
	}
}

// Persistent data on Kubernetes that more than one pod needs at once is said at plan, where
// it is set, with the ways out; access_mode = "ReadWriteMany", or one replica with the
// recreate strategy, is quiet.
func TestSharedReadWriteOnceVolumeIsWarned(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"[deploy]\ntarget = \"kubernetes\"\nreplicas = 3\n", "pyship.toml:3: persistent data uploads/ is a ReadWriteOnce volume on Kubernetes, but 3 replicas need it at once"},
		{"[deploy]\ntarget = \"kubernetes\"\nstrategy = \"blue-green\"\n", "pyship.toml:3: persistent data uploads/ is a ReadWriteOnce volume on Kubernetes, but the blue-green strategy (two releases' pods at once) need it"},
		{"[deploy]\ntarget = \"kubernetes\"\n[kubernetes]\nmax_replicas = 4\n", "pyship.toml:4: persistent data uploads/ is a ReadWriteOnce volume on Kubernetes, but an autoscaler up to 4 replicas"},
		{"[deploy]\ntarget = \"kubernetes\"\n", "but the rolling strategy (its new pod starts before the old one stops) need it"},
		{"[deploy]\ntarget = \"kubernetes\"\nstrategy = \"recreate\"\nreplicas = 2\n", "pyship.toml:4: persistent data uploads/ is a ReadWriteOnce volume on Kubernetes, but 2 replicas need it"},
		{"[deploy]\ntarget = \"kubernetes\"\nstrategy = \"recreate\"\n", ""},
		{"[deploy]\ntarget = \"kubernetes\"\nreplicas = 3\n[kubernetes]\naccess_mode = \"ReadWriteMany\"\n", ""},
		{"[deploy]\nreplicas = 3\n", ""}, // the local target shares the folder
	} {
		dir := testsvc.WriteTree(t, map[string]string{
			"app.py":      "print('worker')\n",
			"pyship.toml": tc.spec + "[data]\npersistent = [\"uploads\"]\n",
		})
		p, err := Resolve(context.Background(), dir, Options{})
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		testsvc.WantOneWarning(t, p.Warnings, tc.want, "ReadWriteOnce")
		for _, w := range p.Warnings {
			// Both real answers are offered, and replicas = 1 with rolling is not one.
			if strings.Contains(w, "ReadWriteOnce") && (!strings.Contains(w, `access_mode = "ReadWriteMany"`) || !strings.Contains(w, `replicas = 1 with strategy = "recreate"`)) {
				t.Errorf("%q: the warning does not offer ReadWriteMany and replicas = 1 with recreate: %s", tc.spec, w)
			}
		}
	}
	// deploy --strategy recreate resolves as the key does: quiet.
	dir := testsvc.WriteTree(t, map[string]string{"app.py": "print('worker')\n",
		"pyship.toml": "[deploy]\ntarget = \"kubernetes\"\n[data]\npersistent = [\"uploads\"]\n"})
	p, err := Resolve(context.Background(), dir, Options{Strategy: "recreate"})
	if err != nil {
		t.Fatal(err)
	}
	testsvc.WantOneWarning(t, p.Warnings, "", "ReadWriteOnce")
}

// Keys of strategies that run two releases at once are said to do nothing with recreate.
func TestRecreateWarnsOfOtherStrategiesKeys(t *testing.T) {
	for spec, want := range map[string]string{
		"[deploy]\nstrategy = \"recreate\"\nsticky = true\n":                 "pyship.toml:3: [deploy] sticky does nothing with the recreate strategy",
		"[deploy]\nstrategy = \"recreate\"\n[deploy.canary]\nsteps = [50]\n": "pyship.toml:4: [deploy.canary] is ignored because the strategy is recreate",
		"[deploy]\nstrategy = \"recreate\"\n":                                "",
	} {
		dir := testsvc.WriteTree(t, map[string]string{"app.py": "print('worker')\n", "pyship.toml": spec})
		p, err := Resolve(context.Background(), dir, Options{})
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		if p.Deploy.Strategy != rollout.Recreate {
			t.Errorf("%q: strategy %q, want recreate", spec, p.Deploy.Strategy)
		}
		testsvc.WantOneWarning(t, p.Warnings, want, "recreate")
	}
}

// [kubernetes] proxy_sidecar reaches the plan only when the spec sets it, false included:
// unset leaves the choice to the renderer (on when monitoring or the canary analysis needs it).
func TestProxySidecarKeyIsKeptOnlyWhenSet(t *testing.T) {
	for spec, want := range map[string]string{
		"[kubernetes]\nmonitoring = true\n":                        "unset",
		"[kubernetes]\nmonitoring = true\nproxy_sidecar = false\n": "false",
		"[kubernetes]\nproxy_sidecar = true\n":                     "true",
	} {
		dir := testsvc.WriteTree(t, map[string]string{"app.py": "print('hi')\n", "pyship.toml": "[deploy]\ntarget = \"kubernetes\"\n" + spec})
		p, err := Resolve(context.Background(), dir, Options{})
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		got := "unset"
		if p.Kubernetes != nil && p.Kubernetes.ProxySidecar != nil {
			got = fmt.Sprint(*p.Kubernetes.ProxySidecar)
		}
		if got != want {
			t.Errorf("%q: plan kubernetes.proxySidecar %s, want %s", spec, got, want)
		}
		if want != "unset" && p.Evidence["kubernetes.proxySidecar"].Line == 0 {
			t.Errorf("%q: no evidence for kubernetes.proxySidecar: %+v", spec, p.Evidence["kubernetes.proxySidecar"])
		}
	}
}
