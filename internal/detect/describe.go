package detect

import (
	"path"
	"path/filepath"
	"strings"
)

// knownServers serve HTTP; knownWorkers run jobs.
var (
	knownServers = map[string]bool{"gunicorn": true, "uvicorn": true, "hypercorn": true, "daphne": true, "waitress-serve": true, "granian": true}
	knownWorkers = map[string]bool{"celery": true, "rq": true, "dramatiq": true, "arq": true, "huey_consumer": true, "huey_consumer.py": true}
)

// Describe works out kind, framework, server, app and port of a given start command.
// process is the Procfile process name ("web", "worker"), "" for a spec command.
func (p *Project) Describe(argv []string, process string) Entry {
	e := Entry{Command: argv, Framework: "plain"}
	args := argv
	if len(args) > 2 && strings.HasPrefix(path.Base(args[0]), "python") && args[1] == "-m" {
		args = args[2:]
	}
	prog := ""
	if len(args) > 0 {
		prog = path.Base(args[0])
	}
	if prog == "gunicorn" || prog == "uvicorn" {
		e.Server = prog
		e.Framework = map[string]string{"gunicorn": "wsgi", "uvicorn": "asgi"}[prog]
		for i, a := range args[1:] {
			if strings.HasPrefix(a, "-") || !strings.Contains(a, ":") || i > 0 && optTakesValue(args[i]) {
				continue
			}
			e.App = a
			break
		}
	}
	e.Port, _ = BindPort(argv)
	script := ""
	for _, a := range argv[1:] {
		if strings.HasSuffix(a, ".py") {
			script = a
			break
		}
	}
	appFramework := ""
	switch {
	case p.App != nil && (e.App == "" || sameApp(e.App, p.App.Ref)):
		appFramework = p.App.Framework
		if e.App != "" {
			e.Entrypoint = p.App.File
			if p.App.PythonPath != "" {
				// A declared command that serves the detected app needs its src/ layout too.
				e.PythonPath = []string{p.App.PythonPath}
			}
		}
	case strings.Contains(e.App, ".wsgi:") || strings.Contains(e.App, ".asgi:") || script == "manage.py":
		if isFile(p.Dir + "/manage.py") {
			appFramework = "django"
		}
	}
	if e.Entrypoint == "" && script != "" {
		e.Entrypoint = script
	}
	scriptServes := false
	if _, usesEnv := BindPort(argv); e.Port == 0 && !usesEnv && script != "" {
		for _, pf := range p.srcs {
			if pf.rel == path.Clean(filepath.ToSlash(script)) {
				var port Fact[int]
				if scriptServes, port = pf.servesHTTP("", 0); scriptServes {
					e.Port, e.PortInCode = port.Value, port.Evidence
				}
			}
		}
	}
	switch {
	case process == "web":
		e.Kind = "web"
	case process != "":
		e.Kind = "worker"
	case knownServers[prog] || e.Port != 0 || scriptServes || contains(argv, "runserver") || anyHasPort(argv):
		e.Kind = "web"
	case knownWorkers[prog]:
		e.Kind = "worker"
	case p.App != nil:
		e.Kind = "web"
	default:
		e.Kind = "worker"
	}
	if e.Kind == "worker" {
		e.Port, e.PortInCode = 0, Evidence{}
	} else if appFramework != "" {
		e.Framework = appFramework
	}
	return e
}

// optTakesValue reports whether server option o takes the next argument as its value.
func optTakesValue(o string) bool {
	if !strings.HasPrefix(o, "-") || strings.Contains(o, "=") {
		return false
	}
	switch o {
	case "--factory", "--reload", "--preload", "--proxy-headers", "--no-access-log", "--daemon", "-D":
		return false
	}
	return true
}

func anyHasPort(argv []string) bool {
	for _, a := range argv {
		if strings.Contains(a, "${PORT}") {
			return true
		}
	}
	return false
}

// sameApp compares "mod:app" references, ignoring a factory's "()".
func sameApp(a, b string) bool {
	return strings.TrimSuffix(a, "()") == strings.TrimSuffix(b, "()")
}
