package detect

import (
	"fmt"
	"sort"

	"github.com/pelletier/go-toml/v2"
)

type uvDep struct {
	Name   string `toml:"name"`
	Marker string `toml:"marker"`
}

type uvLock struct {
	Package []struct {
		Name         string         `toml:"name"`
		Version      string         `toml:"version"`
		Source       map[string]any `toml:"source"`
		Dependencies []uvDep        `toml:"dependencies"`
		Sdist        *struct {
			Hash string `toml:"hash"`
		} `toml:"sdist"`
		Wheels []struct {
			Hash string `toml:"hash"`
		} `toml:"wheels"`
	} `toml:"package"`
}

// parseUVLock reads uv.lock: the packages the project itself needs (its dependencies,
// transitively), pinned, with hashes; the project, its dev groups and extras are left out.
func (p *Project) parseUVLock(pp *pyproject) (Dependencies, error) {
	d := Dependencies{Evidence: Evidence{File: "uv.lock", Rule: "uv.lock (pinned, without dev groups)"}}
	text, err := p.readText("uv.lock")
	if err != nil {
		return d, fmt.Errorf("reading uv.lock: %w", err)
	}
	var lock uvLock
	if err := toml.Unmarshal([]byte(text), &lock); err != nil {
		return d, tomlError("uv.lock", err)
	}
	graph := map[string][]string{}
	markers := map[string][]string{} // incoming edge markers
	var roots []string
	isRoot := map[string]bool{}
	for _, pk := range lock.Package {
		n := NormalizeName(pk.Name)
		for _, dep := range pk.Dependencies {
			graph[n] = append(graph[n], NormalizeName(dep.Name))
		}
		if _, ok := pk.Source["editable"]; ok && pk.Source["editable"] == "." {
			roots, isRoot[n] = append(roots, n), true
		} else if pk.Source["virtual"] == "." {
			roots, isRoot[n] = append(roots, n), true
		}
	}
	if len(roots) == 0 && pp != nil && pp.Project.Name != "" {
		n := NormalizeName(pp.Project.Name)
		roots, isRoot[n] = append(roots, n), true
	}
	if len(roots) == 0 {
		return d, fmt.Errorf("uv.lock: no package for the project itself (source = { editable = \".\" } or { virtual = \".\" }); run 'uv lock' to regenerate it")
	}
	need := reachable(roots, graph)
	for _, pk := range lock.Package {
		if !need[NormalizeName(pk.Name)] {
			continue
		}
		for _, dep := range pk.Dependencies {
			markers[NormalizeName(dep.Name)] = append(markers[NormalizeName(dep.Name)], dep.Marker)
		}
	}
	for _, pk := range lock.Package {
		n := NormalizeName(pk.Name)
		if !need[n] || isRoot[n] {
			continue
		}
		var hashes []string
		if pk.Sdist != nil && pk.Sdist.Hash != "" {
			hashes = append(hashes, pk.Sdist.Hash)
		}
		for _, w := range pk.Wheels {
			if w.Hash != "" {
				hashes = append(hashes, w.Hash)
			}
		}
		d.Requirements = append(d.Requirements, pinned(n, pk.Version, commonMarker(markers[n]), hashes))
	}
	sort.SliceStable(d.Requirements, func(i, j int) bool { return d.Requirements[i].Name < d.Requirements[j].Name })
	return d, nil
}

// commonMarker returns the marker shared by every edge, "" when any edge is unconditional
// or the edges disagree.
func commonMarker(ms []string) string {
	if len(ms) == 0 {
		return ""
	}
	for _, m := range ms[1:] {
		if m != ms[0] {
			return ""
		}
	}
	return ms[0]
}
