package detect

import (
	"path/filepath"
	"strings"
)

// detectName finds the app name: pyproject project name > folder name, as a DNS-1123 label.
func (p *Project) detectName(pp *pyproject) {
	if pp != nil {
		if pp.Project.Name != "" {
			p.Name = Fact[string]{DNSLabel(pp.Project.Name), Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, "project", "name"), Rule: "pyproject.toml [project] name"}}
			return
		}
		if pp.Tool.Poetry.Name != "" {
			p.Name = Fact[string]{DNSLabel(pp.Tool.Poetry.Name), Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, "tool.poetry", "name"), Rule: "pyproject.toml [tool.poetry] name"}}
			return
		}
	}
	p.Name = Fact[string]{DNSLabel(filepath.Base(p.Dir)), Evidence{Rule: "project folder name"}}
}

// DNSLabel turns s into a DNS-1123 label: lowercase letters, digits and '-', at most 63
// characters, starting and ending with a letter or digit ("app" when nothing is left).
func DNSLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > 63 {
		out = out[:63]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		return "app"
	}
	return out
}
