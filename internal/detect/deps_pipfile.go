package detect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

type pipfile struct {
	Source []struct {
		URL string `toml:"url"`
	} `toml:"source"`
	Packages map[string]any `toml:"packages"`
	Requires struct {
		PythonVersion     string `toml:"python_version"`
		PythonFullVersion string `toml:"python_full_version"`
	} `toml:"requires"`
	text string
}

func (p *Project) readPipfile() (*pipfile, error) {
	text, err := p.readText("Pipfile")
	if err != nil {
		return nil, fmt.Errorf("reading Pipfile: %w", err)
	}
	pf := &pipfile{text: text}
	if err := toml.Unmarshal([]byte(text), pf); err != nil {
		return nil, tomlError("Pipfile", err)
	}
	return pf, nil
}

// parsePipfile reads [packages] of Pipfile (no Pipfile.lock).
func (p *Project) parsePipfile() (Dependencies, error) {
	pf, err := p.readPipfile()
	if err != nil {
		return Dependencies{}, err
	}
	d := Dependencies{Evidence: Evidence{File: "Pipfile", Line: tomlLine(pf.text, "packages", ""), Rule: "Pipfile [packages] (no Pipfile.lock)"}}
	names := make([]string, 0, len(pf.Packages))
	for n := range pf.Packages {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return tomlLine(pf.text, "packages", names[i]) < tomlLine(pf.text, "packages", names[j])
	})
	for _, n := range names {
		var spec, markers string
		var extras []string
		switch v := pf.Packages[n].(type) {
		case string:
			spec = v
		case map[string]any:
			if v["git"] != nil || v["path"] != nil || v["file"] != nil || v["editable"] != nil {
				p.warnf("Pipfile:%d: package %s is a git, path or editable dependency and is not installed into the image", tomlLine(pf.text, "packages", n), n)
				continue
			}
			spec, _ = v["version"].(string)
			markers, _ = v["markers"].(string)
			if ex, ok := v["extras"].([]any); ok {
				for _, e := range ex {
					if s, ok := e.(string); ok {
						extras = append(extras, s)
					}
				}
			}
		}
		s := NormalizeName(n)
		if len(extras) > 0 {
			s += "[" + strings.Join(extras, ",") + "]"
		}
		if spec != "*" {
			s += spec
		}
		if markers != "" {
			s += " ; " + markers
		}
		r, _ := parseRequirement(s)
		d.Requirements = append(d.Requirements, r)
	}
	d.PipOptions = indexOptions(func(yield func(string)) {
		for _, s := range pf.Source {
			yield(s.URL)
		}
	})
	return d, nil
}

// indexOptions turns package index URLs into pip options; pypi.org alone needs none.
func indexOptions(urls func(func(string))) []string {
	var list []string
	urls(func(u string) { list = append(list, u) })
	if len(list) == 0 || len(list) == 1 && strings.Contains(list[0], "pypi.org/simple") {
		return nil
	}
	out := []string{"--index-url", list[0]}
	for _, u := range list[1:] {
		out = append(out, "--extra-index-url", u)
	}
	return out
}

type pipfileLock struct {
	Meta struct {
		Sources []struct {
			URL string `json:"url"`
		} `json:"sources"`
	} `json:"_meta"`
	Default map[string]struct {
		Version string   `json:"version"`
		Hashes  []string `json:"hashes"`
		Markers string   `json:"markers"`
		Extras  []string `json:"extras"`
		Git     string   `json:"git"`
		Path    string   `json:"path"`
		File    string   `json:"file"`
	} `json:"default"`
}

// parsePipfileLock reads the default section of Pipfile.lock: pinned, with hashes.
func (p *Project) parsePipfileLock() (Dependencies, error) {
	d := Dependencies{Evidence: Evidence{File: "Pipfile.lock", Rule: "Pipfile.lock (default section, pinned)"}}
	text, err := p.readText("Pipfile.lock")
	if err != nil {
		return d, fmt.Errorf("reading Pipfile.lock: %w", err)
	}
	var lock pipfileLock
	if err := json.Unmarshal([]byte(text), &lock); err != nil {
		return d, fmt.Errorf("Pipfile.lock: invalid JSON: %v; regenerate it with 'pipenv lock'", err)
	}
	names := make([]string, 0, len(lock.Default))
	for n := range lock.Default {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := lock.Default[n]
		if e.Git != "" || e.Path != "" || e.File != "" {
			p.warnf("Pipfile.lock: package %s is a git, path or file dependency and is not installed into the image", n)
			continue
		}
		s := NormalizeName(n)
		if len(e.Extras) > 0 {
			s += "[" + strings.Join(e.Extras, ",") + "]"
		}
		s += e.Version
		if e.Markers != "" {
			s += " ; " + e.Markers
		}
		r, _ := parseRequirement(s)
		r.Hashes = e.Hashes
		d.Requirements = append(d.Requirements, r)
	}
	d.PipOptions = indexOptions(func(yield func(string)) {
		for _, s := range lock.Meta.Sources {
			yield(s.URL)
		}
	})
	return d, nil
}
