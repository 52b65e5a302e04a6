package detect

import (
	"fmt"
	"os"
	"path/filepath"
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
// waitress serve, aiohttp run_app, wsgiref/http.server), and the literal port it passes.
func (pf *pyFile) servesHTTP(appAttr string) (bool, int) {
	serves, port := false, 0
	for i, t := range pf.toks {
		if t.kind != tokName {
			continue
		}
		call := at(pf.toks, i+1, "(")
		switch {
		case appAttr != "" && t.text == appAttr && at(pf.toks, i+1, ".", "run", "("),
			t.text == "uvicorn" && at(pf.toks, i+1, ".", "run", "("),
			t.text == "serve" && call, t.text == "run_app" && call,
			t.text == "make_server" && call, t.text == "HTTPServer" && call,
			t.text == "ThreadingHTTPServer" && call, t.text == "serve_forever" && call:
			serves = true
		case serves && port == 0 && t.text == "port" && at(pf.toks, i+1, "=") && i+2 < len(pf.toks) && pf.toks[i+2].kind == tokNumber:
			fmt.Sscanf(pf.toks[i+2].text, "%d", &port)
		}
	}
	return serves, port
}

// healthRoutes are the paths recognised as health checks, best first.
var healthRoutes = []string{"/healthz", "/health", "/livez", "/readyz", "/ready", "/ping", "/status"}

// findHealthAndPort records health routes and $PORT reads of the sources in p.
func (p *Project) findHealthAndPort(srcs []*pyFile) {
	best := len(healthRoutes)
	for _, pf := range srcs {
		for i, t := range pf.toks {
			if t.kind != tokString || i == 0 {
				continue
			}
			if t.text == "PORT" && (at(pf.toks, i-2, "environ", "[") || at(pf.toks, i-2, "getenv", "(") || at(pf.toks, i-2, "get", "(")) {
				p.PortEnv = append(p.PortEnv, Evidence{File: pf.rel, Line: t.line, Rule: "reads $PORT"})
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
