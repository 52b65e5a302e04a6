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
// Pipfile [requires]. It leaves Python empty when the project says nothing.
func (p *Project) detectPython(pp *pyproject) {
	if text, err := p.readText(".python-version"); err == nil {
		for i, l := range strings.Split(text, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			v := strings.TrimPrefix(l, "python")
			if pyVersionRe.MatchString(v) {
				p.Python = Fact[string]{v, Evidence{File: ".python-version", Line: i + 1, Rule: ".python-version"}}
				return
			}
			p.warnf(".python-version:%d: %q is not a CPython version like 3.12 or 3.12.4; ignored", i+1, l)
			break
		}
	}
	if text, err := p.readText("runtime.txt"); err == nil {
		l := strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])
		v := strings.TrimPrefix(l, "python-")
		if pyVersionRe.MatchString(v) {
			p.Python = Fact[string]{v, Evidence{File: "runtime.txt", Line: 1, Rule: "runtime.txt"}}
			return
		}
		p.warnf("runtime.txt:1: %q is not like python-3.11.4; ignored", l)
	}
	if pp != nil && pp.Project.RequiresPython != "" {
		line := tomlLine(pp.text, "project", "requires-python")
		v, err := pickPython(pp.Project.RequiresPython)
		if err != nil {
			p.warnf("pyproject.toml:%d: requires-python %q: %v; ignored", line, pp.Project.RequiresPython, err)
		} else {
			rule := "requires-python allows the default " + DefaultPython
			if v != DefaultPython {
				rule = "lowest minor allowed by requires-python"
			}
			p.Python = Fact[string]{v, Evidence{File: "pyproject.toml", Line: line, Rule: rule}}
			return
		}
	}
	if pp != nil {
		if py, ok := pp.Tool.Poetry.Dependencies["python"].(string); ok {
			line := tomlLine(pp.text, "tool.poetry.dependencies", "python")
			pep, err := poetryConstraint(py)
			if err == nil {
				var v string
				if v, err = pickPython(pep); err == nil {
					p.Python = Fact[string]{v, Evidence{File: "pyproject.toml", Line: line, Rule: "[tool.poetry.dependencies] python allows it"}}
					return
				}
			}
			p.warnf("pyproject.toml:%d: python = %q: %v; ignored", line, py, err)
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
