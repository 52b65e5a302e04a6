package detect

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Entry is how the app is started, as detected.
type Entry struct {
	// Command is the start command as argv. It is nil for an app served by Server: the command
	// is then ServerCommand(Server, App, workers), built once the worker count is known.
	Command []string
	// Kind is "web" or "worker"; Framework, Server and App are as in plan.Run.
	Kind      string
	Framework string
	Server    string
	App       string
	// Port is the literal port the command binds (0 when it binds ${PORT} or nothing).
	Port int
	// PortInCode is where the app's own code binds Port (zero when the command line binds it):
	// such an app ignores $PORT.
	PortInCode Evidence
	Entrypoint string
	PythonPath []string
	// Evidence is why this is the start command; ServerEvidence why Server was chosen.
	Evidence       Evidence
	ServerEvidence Evidence
}

// ErrNoEntrypoint is wrapped by the error of a project without any entry point.
var ErrNoEntrypoint = errors.New("no entry point found")

// entryRules are the places the entry point is looked for, in order (the spec comes first).
var entryRules = []string{
	"Procfile: a web: or worker: process",
	"Django: manage.py with DJANGO_SETTINGS_MODULE, and WSGI_APPLICATION or ASGI_APPLICATION in the settings",
	"an application object in the Python source: NAME = Flask(...), FastAPI(...), Starlette(...), a create_app() factory, def application(environ, start_response) or async def app(scope, receive, send)",
	"pyproject.toml [project.scripts]",
	"main.py, app.py or server.py run as a script",
	"the only top-level module with an if __name__ == \"__main__\": block, run as a script",
}

// scriptFiles are run as scripts when nothing else is found.
var scriptFiles = []string{"main.py", "app.py", "server.py"}

func (p *Project) detectEntry(pp *pyproject, srcs []*pyFile) error {
	p.srcs = srcs
	p.findHealthAndPort(srcs)
	p.Looked = entryRules
	apps := findApps(srcs)
	if len(apps) > 0 {
		p.App = apps[0]
	}
	procs, err := p.readProcfile()
	if err != nil {
		return err
	}
	p.Procfile = procs
	for _, name := range []string{"web", "worker"} {
		for _, pr := range procs {
			if pr.Name == name {
				e := p.Describe(pr.Command, name)
				e.Evidence = Evidence{File: "Procfile", Line: pr.Line, Rule: "Procfile " + name + ": process"}
				p.Entry = &e
				return nil
			}
		}
	}
	if len(procs) > 0 {
		p.warnf("Procfile has no web: or worker: process; it is ignored")
	}
	if dj := findDjango(srcs); dj != nil {
		p.Entry, p.EntryErr = p.djangoEntry(dj)
		return nil
	}
	if p.App != nil {
		p.warnAmbiguousApps(apps)
		p.Entry, p.EntryErr = p.appEntry(p.App)
		return nil
	}
	if e := p.scriptEntry(pp, srcs); e != nil {
		p.Entry = e
		return nil
	}
	for _, f := range scriptFiles {
		for _, pf := range srcs {
			if pf.rel == f {
				e := &Entry{Command: []string{"python", f}, Framework: "plain", Entrypoint: f, Kind: "worker",
					Evidence: Evidence{File: f, Rule: f + " run as a script"}}
				if serves, port := pf.servesHTTP("", 0); serves {
					e.Kind, e.Port, e.PortInCode = "web", port.Value, port.Evidence
				}
				p.Entry = e
				return nil
			}
		}
	}
	var mains []*pyFile
	for _, pf := range srcs {
		if line, _ := pf.mainBlock(); line > 0 && !strings.Contains(pf.rel, "/") && pf.rel != "setup.py" {
			mains = append(mains, pf)
		}
	}
	if len(mains) == 1 {
		pf := mains[0]
		line, _ := pf.mainBlock()
		e := &Entry{Command: []string{"python", pf.rel}, Framework: "plain", Entrypoint: pf.rel, Kind: "worker",
			Evidence: Evidence{File: pf.rel, Line: line, Rule: "the only top-level module with an if __name__ == \"__main__\": block"}}
		if serves, port := pf.servesHTTP("", 0); serves {
			e.Kind, e.Port, e.PortInCode = "web", port.Value, port.Evidence
		}
		p.Entry = e
		return nil
	}
	looked := p.Looked
	if len(mains) > 1 {
		var names []string
		for _, pf := range mains {
			names = append(names, pf.rel)
		}
		looked = append(append([]string(nil), looked...), "(found several scripts, "+strings.Join(names, ", ")+": say which one runs)")
	}
	p.EntryErr = NoEntrypointError(looked)
	return nil
}

// warnAmbiguousApps warns when other application objects rank as high as the chosen one.
func (p *Project) warnAmbiguousApps(apps []*App) {
	var others []string
	for _, a := range apps[1:] {
		if a.rank == apps[0].rank {
			others = append(others, fmt.Sprintf("%s (%s:%d)", a.Ref, a.File, a.Line))
		}
	}
	if len(others) > 0 {
		p.warnf("several application objects found; using %s (%s:%d), not %s; set [run] command in pyship.toml to choose another",
			apps[0].Ref, apps[0].File, apps[0].Line, strings.Join(others, ", "))
	}
}

// NoEntrypointError says what was looked for and how to declare a start command.
func NoEntrypointError(looked []string) error {
	var b strings.Builder
	b.WriteString("looked for, in order:")
	for i, l := range looked {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, l)
	}
	b.WriteString("\ndeclare how to start the app: set [run] command in pyship.toml (e.g. command = \"gunicorn app:app\"), or add a Procfile with a line like \"web: gunicorn app:app\"")
	return fmt.Errorf("%w: %s", ErrNoEntrypoint, b.String())
}

// depsFile is the dependency file to name when asking the user to add a package.
func (p *Project) depsFile() string {
	if p.Dependencies.Source != "" {
		return p.Dependencies.Source
	}
	return "requirements.txt"
}

// hasDep reports whether the dependencies list package name. uvicorn also counts as listed
// when fastapi[standard] or fastapi[all] brings it.
func (p *Project) hasDep(name string) bool {
	if hasRequirement(p.Dependencies.Requirements, name) {
		return true
	}
	if name != "uvicorn" {
		return false
	}
	for _, r := range p.Dependencies.Requirements {
		if r.Name == "fastapi" && (hasExtra(r.Spec, "standard") || hasExtra(r.Spec, "all")) {
			return true
		}
	}
	return false
}

// hasExtra reports whether requirement spec asks for extra ("fastapi[standard]>=0.110").
func hasExtra(spec, extra string) bool {
	m := reqNameRe.FindStringSubmatch(spec)
	if m == nil || m[2] == "" {
		return false
	}
	for _, e := range strings.Split(strings.Trim(m[2], "[]"), ",") {
		if NormalizeName(e) == extra {
			return true
		}
	}
	return false
}

// serverFor is the server for an interface when the dependencies list it.
func (p *Project) serverFor(iface string) (server string, ok bool) {
	server = "gunicorn"
	if iface == "asgi" {
		server = "uvicorn"
	}
	return server, p.hasDep(server)
}

func (p *Project) serverEvidence(server string) Evidence {
	return Evidence{File: p.Dependencies.Source, Rule: server + " is in the dependencies"}
}

// appEntry serves application object a with gunicorn (WSGI) or uvicorn (ASGI).
func (p *Project) appEntry(a *App) (*Entry, error) {
	e := &Entry{Kind: "web", Framework: a.Framework, App: a.Ref, Entrypoint: a.File,
		Evidence: Evidence{File: a.File, Line: a.Line, Rule: a.Rule}}
	if a.PythonPath != "" {
		e.PythonPath = []string{a.PythonPath}
	}
	server, ok := p.serverFor(a.Interface)
	if ok {
		e.Server, e.ServerEvidence = server, p.serverEvidence(server)
		return e, nil
	}
	if a.RunsItself && a.Main > 0 {
		mod := a.Ref[:strings.Index(a.Ref, ":")]
		e.Command = []string{"python", a.File}
		if a.PythonPath != "" || strings.Contains(a.File, "/") {
			e.Command = []string{"python", "-m", mod}
		}
		e.Port, e.PortInCode = a.RunsPort.Value, a.RunsPort.Evidence
		e.Evidence = Evidence{File: a.File, Line: a.Main, Rule: a.Rule + " run as a script (no " + server + " in the dependencies)"}
		p.warnf("%s:%d: %s %s has no %s server in the dependencies: add %s to %s to serve it in production; until then it runs as a script (%s), with the framework's own server",
			a.File, a.Line, a.Rule, a.Ref, strings.ToUpper(a.Interface), server, p.depsFile(), JoinCommand(e.Command))
		return e, nil
	}
	return nil, fmt.Errorf("%s:%d: found %s %s, but no %s server is in the dependencies: add %s to %s, or set [run] command in pyship.toml",
		a.File, a.Line, a.Rule, a.Ref, strings.ToUpper(a.Interface), server, p.depsFile())
}

// djangoEntry serves a Django project: ASGI with uvicorn, WSGI with gunicorn, else the
// development server with a warning.
func (p *Project) djangoEntry(dj *djangoProject) (*Entry, error) {
	e := &Entry{Kind: "web", Framework: "django"}
	if dj.pythonPath != "" {
		e.PythonPath = []string{dj.pythonPath}
	}
	if dj.asgi != "" && p.hasDep("uvicorn") {
		e.Server, e.App, e.ServerEvidence = "uvicorn", appRef(dj.asgi), p.serverEvidence("uvicorn")
		e.Entrypoint = moduleFile(strings.Split(e.App, ":")[0], dj.pythonPath)
		e.Evidence = Evidence{File: dj.settingsFile, Line: dj.asgiLine, Rule: "Django ASGI_APPLICATION"}
		return e, nil
	}
	if dj.wsgi != "" && p.hasDep("gunicorn") {
		e.Server, e.App, e.ServerEvidence = "gunicorn", appRef(dj.wsgi), p.serverEvidence("gunicorn")
		e.Entrypoint = moduleFile(strings.Split(e.App, ":")[0], dj.pythonPath)
		e.Evidence = Evidence{File: dj.settingsFile, Line: dj.wsgiLine, Rule: "Django WSGI_APPLICATION"}
		if dj.wsgiFile != "" {
			e.Evidence = Evidence{File: dj.wsgiFile, Line: dj.wsgiLine, Rule: "Django wsgi.py application (no WSGI_APPLICATION in the settings)"}
		}
		return e, nil
	}
	manage := "manage.py"
	if dj.pythonPath != "" {
		manage = path.Join(dj.pythonPath, manage)
	}
	e.Command = []string{"python", manage, "runserver", "--noreload", "0.0.0.0:${PORT}"}
	e.Entrypoint = manage
	e.Evidence = Evidence{File: manage, Rule: "Django manage.py runserver (no WSGI/ASGI server in the dependencies)"}
	switch {
	case dj.settings == "":
		p.warnf("%s: no DJANGO_SETTINGS_MODULE found; running Django's development server", manage)
	case dj.asgi != "":
		p.warnf("%s:%d: ASGI_APPLICATION is set but uvicorn is not in the dependencies: add uvicorn to %s to serve Django in production; until then Django's development server runs it", dj.settingsFile, dj.asgiLine, p.depsFile())
	case dj.wsgi == "" && p.hasDep("gunicorn"):
		p.warnf("%s: gunicorn is in the dependencies but %s sets no WSGI_APPLICATION and there is no %s defining application: set WSGI_APPLICATION, or [run] command in pyship.toml; until then Django's development server runs it",
			manage, dj.settingsFile, moduleFile(strings.SplitN(dj.settings, ".", 2)[0]+".wsgi", dj.pythonPath))
	default:
		p.warnf("%s: no WSGI server in the dependencies: add gunicorn to %s to serve Django in production; until then Django's development server runs it", manage, p.depsFile())
	}
	return e, nil
}

// scriptEntry runs a [project.scripts] (or [tool.poetry.scripts]) entry; nil when none.
func (p *Project) scriptEntry(pp *pyproject, srcs []*pyFile) *Entry {
	if pp == nil {
		return nil
	}
	scripts := map[string]string{}
	table := "project.scripts"
	for k, v := range pp.Project.Scripts {
		scripts[k] = v
	}
	if len(scripts) == 0 {
		table = "tool.poetry.scripts"
		for k, v := range pp.Tool.Poetry.Scripts {
			if s, ok := v.(string); ok {
				scripts[k] = s
			}
		}
	}
	if len(scripts) == 0 {
		return nil
	}
	names := make([]string, 0, len(scripts))
	for k := range scripts {
		names = append(names, k)
	}
	sort.Strings(names)
	name := names[0]
	for _, n := range names {
		if NormalizeName(n) == NormalizeName(pp.Project.Name) {
			name = n
		}
	}
	if len(names) > 1 {
		p.warnf("pyproject.toml: several [%s]; running %q, set [run] command in pyship.toml to choose another", table, name)
	}
	target := strings.TrimSpace(strings.SplitN(scripts[name], "[", 2)[0])
	mod, fn, ok := strings.Cut(target, ":")
	if !ok {
		return nil
	}
	e := &Entry{Kind: "worker", Framework: "plain",
		Command:  []string{"python", "-c", fmt.Sprintf("import sys; from %s import %s; sys.exit(%s())", mod, fn, fn)},
		Evidence: Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, table, name), Rule: "[" + table + "] " + name}}
	for _, pf := range srcs {
		if pf.module == mod {
			e.Entrypoint = pf.rel
			if pf.pythonPath != "" {
				e.PythonPath = []string{pf.pythonPath}
			}
			if serves, port := pf.servesHTTP("", 0); serves {
				e.Kind, e.Port, e.PortInCode = "web", port.Value, port.Evidence
			}
		}
	}
	return e
}
