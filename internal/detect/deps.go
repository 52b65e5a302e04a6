package detect

import (
	"os"
	"path/filepath"
	"strings"
)

// Dependencies is what the app needs installed, from the dependency source that won.
type Dependencies struct {
	// Source is the winning file ("" when there is none); Kind is "requirements", "pep621",
	// "poetry", "uv", "pipfile" or "none".
	Source       string
	Kind         string
	Requirements []Requirement
	// Constraints come from -c files of requirements.txt.
	Constraints []Requirement
	// PipOptions are pip options given by the source (index URLs, find-links...), as argv.
	PipOptions []string
	// Others are the dependency files found that did not win.
	Others   []string
	Evidence Evidence
}

// SourceOrder returns the order in which dependency sources win when a project has several:
// lock files first (they pin exactly what was tested), then requirements.txt, then manifests.
func SourceOrder() []string {
	return []string{
		"uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt",
		"pyproject.toml [project].dependencies", "pyproject.toml [tool.poetry]", "Pipfile",
	}
}

// depSource is one dependency source present in the project.
type depSource struct {
	name  string // as in SourceOrder
	file  string
	kind  string
	parse func() (Dependencies, error)
}

func (p *Project) detectDependencies(pp *pyproject) error {
	var found []depSource
	has := func(f string) bool { return isFile(filepath.Join(p.Dir, f)) }
	if has("uv.lock") {
		found = append(found, depSource{"uv.lock", "uv.lock", "uv", func() (Dependencies, error) { return p.parseUVLock(pp) }})
	}
	if has("poetry.lock") {
		found = append(found, depSource{"poetry.lock", "poetry.lock", "poetry", func() (Dependencies, error) { return p.parsePoetryLock(pp) }})
	}
	if has("Pipfile.lock") {
		found = append(found, depSource{"Pipfile.lock", "Pipfile.lock", "pipfile", p.parsePipfileLock})
	}
	if has("requirements.txt") {
		found = append(found, depSource{"requirements.txt", "requirements.txt", "requirements", p.parseRequirementsFile})
	}
	if pp != nil && pp.Project.Dependencies != nil {
		found = append(found, depSource{"pyproject.toml [project].dependencies", "pyproject.toml", "pep621", func() (Dependencies, error) { return p.parsePEP621(pp) }})
	}
	if pp != nil && pp.Tool.Poetry.Dependencies != nil {
		found = append(found, depSource{"pyproject.toml [tool.poetry]", "pyproject.toml", "poetry", func() (Dependencies, error) { return p.parsePoetryManifest(pp) }})
	}
	if has("Pipfile") {
		found = append(found, depSource{"Pipfile", "Pipfile", "pipfile", p.parsePipfile})
	}
	if len(found) == 0 {
		p.Dependencies = Dependencies{Kind: "none", Evidence: Evidence{Rule: "no dependency file found (looked for " + strings.Join(SourceOrder(), ", ") + ")"}}
		return nil
	}
	win := found[0]
	d, err := win.parse()
	if err != nil {
		return err
	}
	d.Source, d.Kind = win.file, win.kind
	if d.Evidence.Rule == "" {
		d.Evidence.Rule = win.name
	}
	if d.Evidence.File == "" {
		d.Evidence.File = win.file
	}
	var losers []string
	for _, o := range found[1:] {
		if o.file == win.file || lockManifest(win.file, o.file) || contains(d.Others, o.file) {
			continue
		}
		d.Others = append(d.Others, o.file)
		losers = append(losers, o.name)
	}
	if len(losers) == 0 {
		d.Evidence.Rule += "; the only dependency source"
	} else {
		d.Evidence.Rule += "; preferred over " + strings.Join(losers, ", ") + " (order: " + strings.Join(SourceOrder(), " > ") + ")"
	}
	p.Dependencies = d
	return nil
}

// lockManifest reports whether other is the manifest that lock file win was made from.
func lockManifest(win, other string) bool {
	return (win == "uv.lock" || win == "poetry.lock") && other == "pyproject.toml" ||
		win == "Pipfile.lock" && other == "Pipfile"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readText reads a project file.
func (p *Project) readText(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(p.Dir, filepath.FromSlash(rel)))
	return string(b), err
}
