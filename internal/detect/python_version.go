package detect

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultPython is the Python version used when neither the spec nor the project says.
const DefaultPython = "3.11"

// pythonMinors are the candidate minors tried against requires-python, lowest first.
var pythonMinors = []int{8, 9, 10, 11, 12, 13, 14}

var pyVersionRe = regexp.MustCompile(`^3\.\d+(\.\d+)?$`)

// detectPython finds the Python version: .python-version > runtime.txt > requires-python >
// Pipfile [requires]. It leaves Python empty when the project says nothing. It records the
// project's requires-python (or Poetry's python constraint) in RequiresPython and warns when a
// version file asks for a Python that constraint does not allow.
func (p *Project) detectPython(pp *pyproject) {
	p.detectRequiresPython(pp)
	if text, err := p.readText(".python-version"); err == nil {
		for i, l := range strings.Split(text, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			v := strings.TrimPrefix(l, "python")
			if pyVersionRe.MatchString(v) {
				p.setPython(v, Evidence{File: ".python-version", Line: i + 1, Rule: ".python-version"})
				return
			}
			p.warnf(".python-version:%d: %s; ignored", i+1, notCPython3(l, v, "3.12 or 3.12.4"))
			break
		}
	}
	if text, err := p.readText("runtime.txt"); err == nil {
		l := strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])
		v := strings.TrimPrefix(l, "python-")
		if pyVersionRe.MatchString(v) {
			p.setPython(v, Evidence{File: "runtime.txt", Line: 1, Rule: "runtime.txt"})
			return
		}
		p.warnf("runtime.txt:1: %s; ignored", notCPython3(l, v, "python-3.11.4"))
	}
	if r := p.RequiresPython; r.Value != "" {
		if v, err := pickPython(r.Value); err == nil {
			rule := "requires-python allows the default " + DefaultPython
			switch {
			case r.Evidence.Rule != "requires-python":
				rule = r.Evidence.Rule + " allows it"
			case v != DefaultPython:
				rule = "lowest minor allowed by requires-python"
			}
			p.Python = Fact[string]{v, Evidence{File: r.Evidence.File, Line: r.Evidence.Line, Rule: rule}}
			return
		}
	}
	if isFile(filepath.Join(p.Dir, "Pipfile")) {
		if pf, err := p.readPipfile(); err == nil {
			v := pf.Requires.PythonFullVersion
			key := "python_full_version"
			if v == "" {
				v, key = pf.Requires.PythonVersion, "python_version"
			}
			if pyVersionRe.MatchString(v) {
				p.Python = Fact[string]{v, Evidence{File: "Pipfile", Line: tomlLine(pf.text, "requires", key), Rule: "Pipfile [requires] " + key}}
			}
		}
	}
}

// notCPython3 says why the version line l (v once its prefix is gone) is not used.
func notCPython3(l, v, like string) string {
	if strings.HasPrefix(v, "2.") || v == "2" {
		return fmt.Sprintf("Python %s is not supported: pyship runs Python 3 apps; port the app to Python 3 and write a version like %s", v, like)
	}
	return fmt.Sprintf("%q is not a CPython version like %s", l, like)
}

// setPython sets the version a version file asks for, warning when requires-python excludes it.
func (p *Project) setPython(v string, ev Evidence) {
	p.Python = Fact[string]{v, ev}
	if w := p.PythonConflict(v); w != "" {
		p.warnf("%s:%d: Python %s %s; the version in %s is used: change it or the constraint", ev.File, ev.Line, v, w, ev.File)
	}
}

// detectRequiresPython records [project] requires-python, else [tool.poetry.dependencies]
// python as a PEP 440 specifier set, warning about one that cannot be read.
func (p *Project) detectRequiresPython(pp *pyproject) {
	if pp == nil {
		return
	}
	if rp := pp.Project.RequiresPython; rp != "" {
		line := tomlLine(pp.text, "project", "requires-python")
		if _, err := pickPython(rp); err != nil {
			p.warnf("pyproject.toml:%d: requires-python %q: %v; ignored", line, rp, err)
			return
		}
		p.RequiresPython = Fact[string]{rp, Evidence{File: "pyproject.toml", Line: line, Rule: "requires-python"}}
		return
	}
	if py, ok := pp.Tool.Poetry.Dependencies["python"].(string); ok {
		line := tomlLine(pp.text, "tool.poetry.dependencies", "python")
		pep, err := poetryConstraint(py)
		if err == nil {
			_, err = pickPython(pep)
		}
		if err != nil {
			p.warnf("pyproject.toml:%d: python = %q: %v; ignored", line, py, err)
			return
		}
		p.RequiresPython = Fact[string]{pep, Evidence{File: "pyproject.toml", Line: line, Rule: "[tool.poetry.dependencies] python"}}
	}
}

// PythonConflict says how version ("3.12" or "3.12.4") fails the project's RequiresPython, or
// returns "" when it satisfies it or there is none. A version without a patch satisfies it when
// one of its patch releases does.
func (p *Project) PythonConflict(version string) string {
	r := p.RequiresPython
	if r.Value == "" {
		return ""
	}
	clauses, err := parseSpecifiers(r.Value)
	if err != nil {
		return ""
	}
	v, err := versionParts(version)
	if err != nil || len(v) < 2 {
		return ""
	}
	if len(v) >= 3 {
		if satisfiesAll(clauses, v) {
			return ""
		}
	} else {
		for patch := 0; patch <= 30; patch++ {
			if satisfiesAll(clauses, []int{v[0], v[1], patch}) {
				return ""
			}
		}
	}
	return fmt.Sprintf("does not satisfy %s %q (%s:%d)", r.Evidence.Rule, r.Value, r.Evidence.File, r.Evidence.Line)
}

// pickPython chooses a Python minor allowed by a PEP 440 specifier set: the default when it
// is allowed, else the lowest allowed.
func pickPython(spec string) (string, error) {
	clauses, err := parseSpecifiers(spec)
	if err != nil {
		return "", err
	}
	allowed := func(minor int) bool {
		for patch := 0; patch <= 30; patch++ {
			if satisfiesAll(clauses, []int{3, minor, patch}) {
				return true
			}
		}
		return false
	}
	if allowed(11) {
		return DefaultPython, nil
	}
	for _, m := range pythonMinors {
		if allowed(m) {
			return fmt.Sprintf("3.%d", m), nil
		}
	}
	return "", fmt.Errorf("allows no Python from 3.8 to 3.14")
}

type specClause struct {
	op       string
	version  []int
	wildcard bool
}

var clauseRe = regexp.MustCompile(`^(~=|===|==|!=|<=|>=|<|>)\s*([0-9][0-9.]*)(\.\*)?$`)

func parseSpecifiers(spec string) ([]specClause, error) {
	var out []specClause
	for _, c := range strings.Split(spec, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		m := clauseRe.FindStringSubmatch(c)
		if m == nil {
			return nil, fmt.Errorf("clause %q is not a version specifier like >=3.10", c)
		}
		v, err := versionParts(strings.TrimSuffix(m[2], "."))
		if err != nil {
			return nil, err
		}
		out = append(out, specClause{op: m[1], version: v, wildcard: m[3] != ""})
	}
	return out, nil
}

func satisfiesAll(cs []specClause, v []int) bool {
	for _, c := range cs {
		if !c.satisfies(v) {
			return false
		}
	}
	return true
}

func (c specClause) satisfies(v []int) bool {
	cmp := compareVersions(v, c.version)
	prefix := func() bool {
		for i, n := range c.version {
			if i >= len(v) || v[i] != n {
				return false
			}
		}
		return true
	}
	switch c.op {
	case "==", "===":
		if c.wildcard {
			return prefix()
		}
		return cmp == 0
	case "!=":
		if c.wildcard {
			return !prefix()
		}
		return cmp != 0
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case "<":
		return cmp < 0
	case "~=":
		if cmp < 0 || len(c.version) < 2 {
			return false
		}
		up := append([]int(nil), c.version[:len(c.version)-1]...)
		for i, n := range up {
			if i >= len(v) || v[i] != n {
				return false
			}
		}
		return true
	}
	return false
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
