package detect

import (
	"fmt"
	"sort"
	"strings"
)

// App is an application object found in the source.
type App struct {
	// Framework is "flask", "fastapi", "starlette", "django", "wsgi" or "asgi".
	Framework string
	// Interface is "wsgi" or "asgi".
	Interface string
	// Ref is "module:attr", or "module:factory()" for an application factory.
	Ref        string
	File       string
	Line       int
	PythonPath string
	// Main is the line of the file's `if __name__ == "__main__":` block (0 when none);
	// RunsItself is true when the file starts a server itself (app.run, uvicorn.run).
	Main       int
	RunsItself bool
	// RunsPort is the literal port the file's own server binds (zero when none).
	RunsPort Fact[int]
	Rule     string
	rank     int
}

// constructors maps application classes to their framework and interface.
var constructors = map[string][2]string{
	"Flask": {"flask", "wsgi"}, "FastAPI": {"fastapi", "asgi"}, "Starlette": {"starlette", "asgi"},
	"Quart": {"asgi", "asgi"}, "Litestar": {"asgi", "asgi"}, "Bottle": {"wsgi", "wsgi"},
}

// appRunPorts are the ports app.run() binds by default, by framework.
var appRunPorts = map[string]int{"flask": 5000}

// preferredFiles are the file names where an app object is most likely the app, best first.
var preferredFiles = []string{"app.py", "main.py", "wsgi.py", "asgi.py", "server.py", "api.py", "application.py", "__init__.py"}

// findApps finds the application objects of the sources, best first.
func findApps(srcs []*pyFile) []*App {
	var apps []*App
	for _, pf := range srcs {
		if pf.module == "" {
			continue
		}
		apps = append(apps, pf.apps()...)
	}
	sort.SliceStable(apps, func(i, j int) bool {
		a, b := apps[i], apps[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if fa, fb := fileRank(a.File), fileRank(b.File); fa != fb {
			return fa < fb
		}
		if da, db := strings.Count(a.File, "/"), strings.Count(b.File, "/"); da != db {
			return da < db
		}
		return a.File < b.File
	})
	return apps
}

func fileRank(rel string) int {
	for i, f := range preferredFiles {
		if pathBase(rel) == f {
			return i
		}
	}
	return len(preferredFiles)
}

// apps lists the application objects of one file: module-level objects (rank 0), factory
// functions (rank 1), WSGI/ASGI callables (rank 2).
func (pf *pyFile) apps() []*App {
	var out []*App
	toks := pf.toks
	fn := "" // the enclosing top-level function
	mainLine, _ := pf.mainBlock()
	add := func(a *App) {
		a.File, a.PythonPath, a.Main = pf.rel, pf.pythonPath, mainLine
		attr := strings.TrimSuffix(a.Ref[strings.Index(a.Ref, ":")+1:], "()")
		a.RunsItself, a.RunsPort = pf.servesHTTP(attr, appRunPorts[a.Framework])
		out = append(out, a)
	}
	for i, t := range toks {
		if t.first && t.indent == 0 {
			fn = ""
			d := i
			if t.text == "async" {
				d = i + 1
			}
			if at(toks, d, "def") && d+2 < len(toks) {
				fn = toks[d+1].text
				if params := paramNames(toks, d+2); len(params) > 0 {
					switch {
					case t.text != "async" && len(params) == 2 && params[0] == "environ" && params[1] == "start_response":
						add(&App{Framework: "wsgi", Interface: "wsgi", Ref: pf.module + ":" + fn, Line: t.line, Rule: "WSGI callable " + fn + "(environ, start_response)", rank: 2})
					case t.text == "async" && len(params) == 3 && params[0] == "scope" && params[1] == "receive" && params[2] == "send":
						add(&App{Framework: "asgi", Interface: "asgi", Ref: pf.module + ":" + fn, Line: t.line, Rule: "ASGI callable " + fn + "(scope, receive, send)", rank: 2})
					}
				}
			}
		}
		if !t.first || t.kind != tokName || !at(toks, i+1, "=") {
			continue
		}
		// NAME = [pkg.]Ctor(
		j := i + 2
		for j+1 < len(toks) && toks[j].kind == tokName && toks[j+1].text == "." {
			j += 2
		}
		if j+1 >= len(toks) || toks[j].kind != tokName || toks[j+1].text != "(" {
			continue
		}
		ctor := toks[j].text
		fw, ok := constructors[ctor]
		if !ok && (ctor == "App" || ctor == "API") && at(toks, j-2, "falcon", ".") {
			fw, ok = [2]string{"wsgi", "wsgi"}, true
		}
		switch {
		case ok && t.indent == 0:
			add(&App{Framework: fw[0], Interface: fw[1], Ref: pf.module + ":" + t.text, Line: t.line, Rule: ctor + " application object", rank: 0})
		case ok && fn != "" && strings.Contains(strings.ToLower(fn), "app"):
			add(&App{Framework: fw[0], Interface: fw[1], Ref: pf.module + ":" + fn + "()", Line: t.line, Rule: ctor + " application factory " + fn + "()", rank: 1})
		case t.indent == 0 && t.text == "application" && (ctor == "get_wsgi_application" || ctor == "get_asgi_application"):
			iface := ctor[4:8]
			add(&App{Framework: "django", Interface: iface, Ref: pf.module + ":application", Line: t.line, Rule: "Django " + ctor + "()", rank: 2})
		}
	}
	return dedupeApps(out)
}

// paramNames reads the parameter names of a def whose "(" is at toks[i].
func paramNames(toks []token, i int) []string {
	if !at(toks, i, "(") {
		return nil
	}
	var names []string
	expect := true
	for j := i + 1; j < len(toks) && toks[j].text != ")"; j++ {
		switch {
		case toks[j].text == ",":
			expect = true
		case expect && toks[j].kind == tokName:
			names = append(names, toks[j].text)
			expect = false
		}
	}
	return names
}

// dedupeApps keeps the first object of each Ref (a factory may build its object twice).
func dedupeApps(apps []*App) []*App {
	seen := map[string]bool{}
	var out []*App
	for _, a := range apps {
		if !seen[a.Ref] {
			seen[a.Ref] = true
			out = append(out, a)
		}
	}
	return out
}

// String is "Flask application object app:app (app.py:3)".
func (a *App) String() string {
	return fmt.Sprintf("%s %s (%s:%d)", a.Rule, a.Ref, a.File, a.Line)
}
