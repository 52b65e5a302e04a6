package detect

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxSourceSize bounds the Python files scanned (bigger ones are generated, not app code).
const maxSourceSize = 1 << 20

// pyFile is a scanned Python source file.
type pyFile struct {
	rel string
	// module is the importable module name ("" when the path is not importable);
	// pythonPath is the folder it is importable from ("" for the project folder, "src").
	module     string
	pythonPath string
	toks       []token
}

// scanSources tokenizes the project's Python files, tests left out.
func scanSources(dir string, files []string) ([]*pyFile, error) {
	srcLayout := isDir(filepath.Join(dir, "src"))
	var out []*pyFile
	for _, f := range files {
		if !strings.HasSuffix(f, ".py") || isTestFile(f) {
			continue
		}
		abs := filepath.Join(dir, filepath.FromSlash(f))
		st, err := os.Stat(abs)
		if err != nil || st.Size() > maxSourceSize {
			continue
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		pf := &pyFile{rel: f, toks: tokenize(string(b))}
		modPath := f
		if srcLayout && strings.HasPrefix(f, "src/") {
			modPath, pf.pythonPath = strings.TrimPrefix(f, "src/"), "src"
		}
		pf.module = moduleName(modPath)
		out = append(out, pf)
	}
	return out, nil
}

// moduleName turns "pkg/main.py" into "pkg.main" and "pkg/__init__.py" into "pkg"; "" when
// a part is not a Python identifier.
func moduleName(rel string) string {
	parts := strings.Split(strings.TrimSuffix(rel, ".py"), "/")
	if len(parts) > 1 && parts[len(parts)-1] == "__init__" {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		if p == "" || !isIdentStart(p[0]) {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if !isIdentChar(p[i]) {
				return ""
			}
		}
	}
	return strings.Join(parts, ".")
}

// at reports whether the tokens from i on have the given texts (names, ops or strings).
func at(toks []token, i int, texts ...string) bool {
	if i < 0 || i+len(texts) > len(toks) {
		return false
	}
	for j, t := range texts {
		if toks[i+j].text != t {
			return false
		}
	}
	return true
}

// mainBlock returns the line of `if __name__ == "__main__":` (0 when absent) and the token
// index where it starts.
func (pf *pyFile) mainBlock() (int, int) {
	for i, t := range pf.toks {
		if t.first && t.indent == 0 && t.text == "if" && at(pf.toks, i+1, "__name__", "==", "__main__") && pf.toks[i+3].kind == tokString {
			return t.line, i
		}
	}
	return 0, -1
}

// servesHTTP reports whether the file starts an HTTP server itself (app.run, uvicorn.run,
// waitress serve, aiohttp run_app, wsgiref/http.server/socketserver), and the literal port it
// binds (a zero Fact when it binds none it says, or reads it from the environment).
// appAttr names the app object whose .run() starts a server, and appRunPort the port that
// run() binds when the call names none (0 when unknown).
func (pf *pyFile) servesHTTP(appAttr string, appRunPort int) (bool, Fact[int]) {
	serves := false
	var port Fact[int]
	for i, t := range pf.toks {
		if t.kind != tokName {
			continue
		}
		call := at(pf.toks, i+1, "(")
		open := -1 // the "(" of a call that starts a server
		switch {
		case appAttr != "" && t.text == appAttr && at(pf.toks, i+1, ".", "run", "("),
			t.text == "uvicorn" && at(pf.toks, i+1, ".", "run", "("):
			open = i + 3
		case call && serverCalls[t.text] != "":
			open = i + 1
		case t.text == "serve_forever" && call:
			serves = true
		}
		if open < 0 {
			continue
		}
		serves = true
		if port.Value == 0 {
			name, dflt := t.text, callDefaultPorts[t.text]
			if open == i+3 {
				name, dflt = t.text+".run", 0
				if t.text == appAttr {
					dflt = appRunPort
				}
			}
			port = pf.callPort(name, open, dflt)
		}
	}
	if serves && port.Value == 0 && len(pf.portEnvReads()) == 0 {
		port = pf.portConstant()
	}
	return serves, port
}

// portEnvReads are the lines where the file reads $PORT (os.environ["PORT"], getenv("PORT"),
// environ.get("PORT")).
func (pf *pyFile) portEnvReads() []int {
	var lines []int
	for i, t := range pf.toks {
		if t.kind == tokString && t.text == "PORT" && (at(pf.toks, i-2, "environ", "[") || at(pf.toks, i-2, "getenv", "(") || at(pf.toks, i-2, "get", "(")) {
			lines = append(lines, t.line)
		}
	}
	return lines
}

// serverCalls are the calls that start an HTTP server, each with where its port goes:
// "addr" a (host, port) tuple first, "second" the second positional argument, "kw" only a
// port= (or listen=) keyword.
var serverCalls = map[string]string{
	"HTTPServer": "addr", "ThreadingHTTPServer": "addr", "TCPServer": "addr", "ThreadingTCPServer": "addr",
	"ForkingTCPServer": "addr", "WSGIServer": "addr", "make_server": "second", "serve": "kw", "run_app": "kw",
}

// callDefaultPorts are the ports servers bind when the call names none.
var callDefaultPorts = map[string]int{"run_app": 8080}

// callPort finds the literal port of the server call named name whose "(" is at open: a port=
// or listen= keyword, the (host, port) address or the second argument, a number or a module
// constant; else the server's default port dflt (if not 0) when the call names no port at all.
func (pf *pyFile) callPort(name string, open, dflt int) Fact[int] {
	toks := pf.toks
	mode := serverCalls[name]
	depth, arg := 0, 0
	named := false // the call passes a port or an address in some form
	for j := open; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.text == "(" || t.text == "[" || t.text == "{":
			depth++
			if depth == 2 && arg == 0 && mode == "addr" && t.text == "(" {
				named = true
				if j+4 < len(toks) && toks[j+1].kind == tokString && toks[j+2].text == "," && toks[j+4].text == ")" {
					return pf.portValue(toks[j+3], name)
				}
			}
			continue
		case t.text == ")" || t.text == "]" || t.text == "}":
			depth--
			if depth == 0 {
				if dflt != 0 && !named {
					return Fact[int]{dflt, Evidence{File: pf.rel, Line: toks[open].line, Rule: fmt.Sprintf("%s() binds its default port %d", name, dflt)}}
				}
				return Fact[int]{}
			}
			continue
		}
		if depth != 1 {
			continue
		}
		switch {
		case t.text == ",":
			arg++
		case (t.text == "port" || t.text == "listen" || t.text == "sock" || t.text == "path") && at(toks, j+1, "="):
			named = true
			if t.text == "port" && j+2 < len(toks) {
				return pf.portValue(toks[j+2], name)
			}
			if t.text == "listen" && j+2 < len(toks) && toks[j+2].kind == tokString {
				if _, after, ok := strings.Cut(toks[j+2].text, ":"); ok {
					return pf.portValue(token{kind: tokNumber, text: after, line: toks[j+2].line}, name)
				}
			}
		case mode == "second" && arg == 1 && toks[j-1].text == ",":
			named = true
			return pf.portValue(t, name)
		}
	}
	return Fact[int]{}
}

// portValue is the port of t, a number or the name of a module constant, passed to call.
func (pf *pyFile) portValue(t token, call string) Fact[int] {
	if t.kind == tokName {
		if c, ok := pf.constants()[t.text]; ok {
			return Fact[int]{c.Value, Evidence{File: pf.rel, Line: c.Evidence.Line, Rule: fmt.Sprintf("%s = %d, the port %s() binds", t.text, c.Value, call)}}
		}
		return Fact[int]{}
	}
	n, ok := portNumber(t)
	if !ok {
		return Fact[int]{}
	}
	return Fact[int]{n, Evidence{File: pf.rel, Line: t.line, Rule: fmt.Sprintf("%s() binds port %d", call, n)}}
}

func portNumber(t token) (int, bool) {
	n, err := strconv.Atoi(t.text)
	if t.kind != tokNumber || err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}

// constants are the module-level NAME = NUMBER assignments of the file.
func (pf *pyFile) constants() map[string]Fact[int] {
	out := map[string]Fact[int]{}
	toks := pf.toks
	for i, t := range toks {
		if t.first && t.indent == 0 && t.kind == tokName && at(toks, i+1, "=") && i+2 < len(toks) &&
			(i+3 == len(toks) || toks[i+3].first) {
			if n, ok := portNumber(toks[i+2]); ok {
				out[t.text] = Fact[int]{n, Evidence{File: pf.rel, Line: t.line}}
			}
		}
	}
	return out
}

// portConstant is a module constant PORT (or NAME_PORT) = NUMBER of a file that serves HTTP.
func (pf *pyFile) portConstant() Fact[int] {
	best := Fact[int]{}
	for name, c := range pf.constants() {
		up := strings.ToUpper(name)
		if (up == "PORT" || strings.HasSuffix(up, "_PORT")) && (best.Value == 0 || c.Evidence.Line < best.Evidence.Line) {
			best = Fact[int]{c.Value, Evidence{File: pf.rel, Line: c.Evidence.Line, Rule: fmt.Sprintf("%s = %d in the server's module", name, c.Value)}}
		}
	}
	return best
}

// healthRoutes are the paths recognised as health checks, best first.
var healthRoutes = []string{"/healthz", "/health", "/livez", "/readyz", "/ready", "/ping", "/status"}

// findHealthAndPort records health routes and $PORT reads of the sources in p.
func (p *Project) findHealthAndPort(srcs []*pyFile) {
	best := len(healthRoutes)
	for _, pf := range srcs {
		for _, line := range pf.portEnvReads() {
			p.PortEnv = append(p.PortEnv, Evidence{File: pf.rel, Line: line, Rule: "reads $PORT"})
		}
		for i, t := range pf.toks {
			if t.kind != tokString || i == 0 {
				continue
			}
			// "/healthz" anywhere (a route, a comparison); "healthz/" only as a call argument (Django path())
			if !strings.HasPrefix(t.text, "/") && pf.toks[i-1].text != "(" {
				continue
			}
			route := "/" + strings.Trim(t.text, "/")
			for k, h := range healthRoutes[:best] {
				if route == h {
					best = k
					p.HealthPath = Fact[string]{h, Evidence{File: pf.rel, Line: t.line, Rule: "health route " + h + " in the source"}}
					break
				}
			}
		}
	}
}
