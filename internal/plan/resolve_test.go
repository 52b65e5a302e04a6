package plan

import (
	"context"
	"strings"
	"testing"

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
	if e := p.Evidence["run.workers"]; e.File != "pyship.toml" || e.Line != 19 {
		t.Errorf("run.workers evidence = %+v, want pyship.toml:19 (the overlay)", e)
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
			var got []string
			for _, w := range p.Warnings {
				if strings.Contains(w, "requires-python") {
					got = append(got, w)
				}
			}
			switch {
			case tc.warn == "" && len(got) > 0:
				t.Errorf("unexpected warnings %q", got)
			case tc.warn != "" && (len(got) != 1 || !strings.Contains(got[0], tc.warn)):
				t.Errorf("warnings = %q, want one containing %q", got, tc.warn)
			}
		})
	}
}
