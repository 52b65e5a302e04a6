package detect

import (
	"fmt"
	"sort"
	"strings"
)

// parsePEP621 reads [project].dependencies of pyproject.toml.
func (p *Project) parsePEP621(pp *pyproject) (Dependencies, error) {
	d := Dependencies{Evidence: Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, "project", "dependencies"), Rule: "pyproject.toml [project].dependencies"}}
	for _, s := range *pp.Project.Dependencies {
		r, ok := parseRequirement(s)
		if !ok {
			return d, fmt.Errorf("pyproject.toml:%d: %q in [project].dependencies is not a PEP 508 requirement; fix it (e.g. \"flask>=3\")", d.Evidence.Line, s)
		}
		d.Requirements = append(d.Requirements, r)
	}
	return d, nil
}

// parsePoetryManifest reads [tool.poetry.dependencies] (no lock file): version constraints
// are translated to PEP 440.
func (p *Project) parsePoetryManifest(pp *pyproject) (Dependencies, error) {
	line := tomlLine(pp.text, "tool.poetry.dependencies", "")
	d := Dependencies{Evidence: Evidence{File: "pyproject.toml", Line: line, Rule: "pyproject.toml [tool.poetry.dependencies] (no poetry.lock)"}}
	names := make([]string, 0, len(pp.Tool.Poetry.Dependencies))
	for n := range pp.Tool.Poetry.Dependencies {
		names = append(names, n)
	}
	// keep the file order when it can be found, else alphabetical
	sort.Slice(names, func(i, j int) bool {
		li := tomlLine(pp.text, "tool.poetry.dependencies", names[i])
		lj := tomlLine(pp.text, "tool.poetry.dependencies", names[j])
		if li != lj {
			return li < lj
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		if strings.EqualFold(n, "python") {
			continue
		}
		r, ok, err := poetryRequirement(n, pp.Tool.Poetry.Dependencies[n])
		if err != nil {
			return d, fmt.Errorf("pyproject.toml:%d: [tool.poetry.dependencies] %s: %v", tomlLine(pp.text, "tool.poetry.dependencies", n), n, err)
		}
		if !ok {
			p.warnf("pyproject.toml:%d: dependency %s is a git, path, URL or optional dependency and is not installed into the image", tomlLine(pp.text, "tool.poetry.dependencies", n), n)
			continue
		}
		d.Requirements = append(d.Requirements, r)
	}
	return d, nil
}

// poetryRequirement converts one Poetry dependency to a PEP 508 requirement. ok is false for
// dependencies that cannot be expressed (git, path, url) or are optional.
func poetryRequirement(name string, v any) (Requirement, bool, error) {
	var constraint, markers string
	var extras []string
	switch t := v.(type) {
	case string:
		constraint = t
	case map[string]any:
		if _, ok := t["git"]; ok {
			return Requirement{}, false, nil
		}
		if _, ok := t["path"]; ok {
			return Requirement{}, false, nil
		}
		if _, ok := t["url"]; ok {
			return Requirement{}, false, nil
		}
		if o, _ := t["optional"].(bool); o {
			return Requirement{}, false, nil
		}
		constraint, _ = t["version"].(string)
		markers, _ = t["markers"].(string)
		if py, ok := t["python"].(string); ok && markers == "" {
			if pep, err := poetryConstraint(py); err == nil && pep != "" {
				markers = pythonMarker(pep)
			}
		}
		if ex, ok := t["extras"].([]any); ok {
			for _, e := range ex {
				if s, ok := e.(string); ok {
					extras = append(extras, s)
				}
			}
		}
	case []any:
		return Requirement{}, false, fmt.Errorf("multiple-constraint dependencies are not supported; use a poetry.lock file")
	default:
		return Requirement{}, false, fmt.Errorf("unexpected value %v; write a version constraint string", v)
	}
	pep, err := poetryConstraint(constraint)
	if err != nil {
		return Requirement{}, false, err
	}
	s := NormalizeName(name)
	if len(extras) > 0 {
		s += "[" + strings.Join(extras, ",") + "]"
	}
	s += pep
	if markers != "" {
		s += " ; " + markers
	}
	r, _ := parseRequirement(s)
	return r, true, nil
}

// pythonMarker turns a PEP 440 specifier set into a python_version marker.
func pythonMarker(spec string) string {
	var parts []string
	for _, c := range strings.Split(spec, ",") {
		c = strings.TrimSpace(c)
		i := strings.IndexFunc(c, func(r rune) bool { return r >= '0' && r <= '9' })
		if i <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("python_version %s %q", c[:i], c[i:]))
	}
	return strings.Join(parts, " and ")
}

// poetryConstraint translates a Poetry version constraint (^1.2, ~1.2, 1.2.*, *, 1.2.3,
// >=1,<2, a || b) to a PEP 440 specifier set ("" for any version).
func poetryConstraint(c string) (string, error) {
	c = strings.TrimSpace(c)
	if c == "" || c == "*" {
		return "", nil
	}
	if strings.Contains(c, "||") {
		return "", fmt.Errorf("constraint %q uses ||, which PEP 440 cannot express; use a poetry.lock file", c)
	}
	var out []string
	for _, part := range strings.FieldsFunc(c, func(r rune) bool { return r == ',' }) {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "^"):
			lo, hi, err := caretBounds(strings.TrimSpace(part[1:]))
			if err != nil {
				return "", err
			}
			out = append(out, ">="+lo, "<"+hi)
		case strings.HasPrefix(part, "~") && !strings.HasPrefix(part, "~="):
			lo, hi, err := tildeBounds(strings.TrimSpace(part[1:]))
			if err != nil {
				return "", err
			}
			out = append(out, ">="+lo, "<"+hi)
		case part[0] >= '0' && part[0] <= '9':
			out = append(out, "=="+part)
		default:
			out = append(out, strings.ReplaceAll(part, " ", ""))
		}
	}
	return strings.Join(out, ","), nil
}

func versionParts(v string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ".") {
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
			return nil, fmt.Errorf("version %q is not numeric", v)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinVersion(p []int) string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ".")
}

// caretBounds: ^1.2.3 → [1.2.3, 2.0.0); ^0.2.3 → [0.2.3, 0.3.0); ^0.0.3 → [0.0.3, 0.0.4).
func caretBounds(v string) (string, string, error) {
	p, err := versionParts(v)
	if err != nil {
		return "", "", err
	}
	hi := make([]int, len(p))
	i := 0
	for i < len(p)-1 && p[i] == 0 {
		i++
	}
	copy(hi, p[:i])
	hi[i] = p[i] + 1
	return v, joinVersion(hi), nil
}

// tildeBounds: ~1.2.3 → [1.2.3, 1.3.0); ~1.2 → [1.2, 1.3); ~1 → [1, 2).
func tildeBounds(v string) (string, string, error) {
	p, err := versionParts(v)
	if err != nil {
		return "", "", err
	}
	hi := make([]int, len(p))
	i := 1
	if len(p) == 1 {
		i = 0
	}
	copy(hi, p[:i])
	hi[i] = p[i] + 1
	return v, joinVersion(hi), nil
}
