package detect

import (
	"fmt"
	"sort"

	"github.com/pelletier/go-toml/v2"
)

type poetryLock struct {
	Package []struct {
		Name         string         `toml:"name"`
		Version      string         `toml:"version"`
		Category     string         `toml:"category"`
		Groups       []string       `toml:"groups"`
		Optional     bool           `toml:"optional"`
		Markers      any            `toml:"markers"`
		Dependencies map[string]any `toml:"dependencies"`
		Files        []lockFile     `toml:"files"`
	} `toml:"package"`
	Metadata struct {
		Files map[string][]lockFile `toml:"files"`
	} `toml:"metadata"`
}

type lockFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

// parsePoetryLock reads the main group of poetry.lock, pinned, with hashes. Packages belong
// to main by their groups (Poetry 2), their category (lock format 1) or, when the lock says
// neither, by being reachable from the main dependencies of pyproject.toml.
func (p *Project) parsePoetryLock(pp *pyproject) (Dependencies, error) {
	d := Dependencies{Evidence: Evidence{File: "poetry.lock", Rule: "poetry.lock (main group, pinned)"}}
	text, err := p.readText("poetry.lock")
	if err != nil {
		return d, fmt.Errorf("reading poetry.lock: %w", err)
	}
	var lock poetryLock
	if err := toml.Unmarshal([]byte(text), &lock); err != nil {
		return d, tomlError("poetry.lock", err)
	}
	labelled := false
	for _, pk := range lock.Package {
		if pk.Category != "" || len(pk.Groups) > 0 {
			labelled = true
		}
	}
	var main map[string]bool
	if !labelled {
		graph := map[string][]string{}
		for _, pk := range lock.Package {
			for dep := range pk.Dependencies {
				graph[NormalizeName(pk.Name)] = append(graph[NormalizeName(pk.Name)], NormalizeName(dep))
			}
		}
		var roots []string
		if pp != nil {
			for n := range pp.Tool.Poetry.Dependencies {
				roots = append(roots, NormalizeName(n))
			}
			if pp.Project.Dependencies != nil {
				for _, s := range *pp.Project.Dependencies {
					if r, ok := parseRequirement(s); ok {
						roots = append(roots, r.Name)
					}
				}
			}
		}
		main = reachable(roots, graph)
	}
	for _, pk := range lock.Package {
		n := NormalizeName(pk.Name)
		switch {
		case len(pk.Groups) > 0:
			if !contains(pk.Groups, "main") {
				continue
			}
		case pk.Category != "":
			if pk.Category != "main" {
				continue
			}
		case !main[n]:
			continue
		}
		files := pk.Files
		if len(files) == 0 {
			files = lock.Metadata.Files[pk.Name]
		}
		var hashes []string
		for _, f := range files {
			if f.Hash != "" {
				hashes = append(hashes, f.Hash)
			}
		}
		marker := ""
		switch m := pk.Markers.(type) {
		case string:
			marker = m
		case map[string]any:
			marker, _ = m["main"].(string)
		}
		d.Requirements = append(d.Requirements, pinned(pk.Name, pk.Version, marker, hashes))
	}
	sort.SliceStable(d.Requirements, func(i, j int) bool { return d.Requirements[i].Name < d.Requirements[j].Name })
	return d, nil
}

// reachable returns the nodes reachable from roots (roots included).
func reachable(roots []string, graph map[string][]string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, m := range graph[n] {
			walk(m)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return seen
}
