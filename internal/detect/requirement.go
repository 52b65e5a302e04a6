package detect

import (
	"regexp"
	"strings"
)

// Requirement is one requirement of the app.
type Requirement struct {
	// Name is normalised per PEP 503.
	Name string
	// Spec is the PEP 508 requirement without hashes.
	Spec string
	// Version is set when Spec pins exactly one version (==X, no wildcard).
	Version string
	Hashes  []string
}

var nameRunRe = regexp.MustCompile(`[-_.]+`)

// NormalizeName normalises a Python project name per PEP 503.
func NormalizeName(name string) string {
	return strings.ToLower(nameRunRe.ReplaceAllString(strings.TrimSpace(name), "-"))
}

var reqNameRe = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$`)

// parseRequirement parses a PEP 508 string; ok is false when it does not start with a name.
func parseRequirement(s string) (Requirement, bool) {
	s = strings.TrimSpace(s)
	m := reqNameRe.FindStringSubmatch(s)
	if m == nil {
		return Requirement{}, false
	}
	r := Requirement{Name: NormalizeName(m[1]), Spec: s}
	rest := m[3]
	if i := strings.Index(rest, ";"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSpace(strings.Trim(strings.TrimSpace(rest), "()"))
	if strings.HasPrefix(rest, "@") {
		return r, true
	}
	if strings.HasPrefix(rest, "===") {
		r.Version = strings.TrimSpace(rest[3:])
	} else if strings.HasPrefix(rest, "==") && !strings.Contains(rest, ",") && !strings.Contains(rest, "*") {
		r.Version = strings.TrimSpace(rest[2:])
	}
	return r, true
}

// pinned builds the requirement "name==version ; marker".
func pinned(name, version, marker string, hashes []string) Requirement {
	n := NormalizeName(name)
	s := n
	if version != "" {
		s += "==" + version
	}
	if marker != "" {
		s += " ; " + marker
	}
	return Requirement{Name: n, Spec: s, Version: version, Hashes: hashes}
}

// hasRequirement reports whether reqs holds the project name (normalised).
func hasRequirement(reqs []Requirement, name string) bool {
	for _, r := range reqs {
		if r.Name == name {
			return true
		}
	}
	return false
}
