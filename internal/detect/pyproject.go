package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// pyproject is the part of pyproject.toml that detection reads.
type pyproject struct {
	Project struct {
		Name           string              `toml:"name"`
		Version        string              `toml:"version"`
		RequiresPython string              `toml:"requires-python"`
		Dependencies   *[]string           `toml:"dependencies"`
		Scripts        map[string]string   `toml:"scripts"`
		Optional       map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	Tool struct {
		Poetry struct {
			Name         string         `toml:"name"`
			Version      string         `toml:"version"`
			Dependencies map[string]any `toml:"dependencies"`
			Scripts      map[string]any `toml:"scripts"`
		} `toml:"poetry"`
	} `toml:"tool"`

	// text is the raw file, used to find line numbers.
	text string
}

// readPyproject reads pyproject.toml of dir; it returns nil when there is none.
func readPyproject(dir string) (*pyproject, error) {
	b, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading pyproject.toml: %w", err)
	}
	pp := &pyproject{text: string(b)}
	if err := toml.Unmarshal(b, pp); err != nil {
		return nil, tomlError("pyproject.toml", err)
	}
	return pp, nil
}

// tomlError turns a TOML decoding error into "file:line: problem; fix it".
func tomlError(file string, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("%s:%d: invalid TOML: %s; fix the file so it parses", file, row, de.Error())
	}
	var se *toml.StrictMissingError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %s", file, se.Error())
	}
	return fmt.Errorf("%s: invalid TOML: %w; fix the file so it parses", file, err)
}

// tomlLine finds the 1-based line of key in [table] of a TOML text (0 when not found).
// With key "" it finds the table header. It is lexical: good enough for evidence.
func tomlLine(text, table, key string) int {
	cur := ""
	for i, raw := range strings.Split(text, "\n") {
		l := strings.TrimSpace(raw)
		if strings.HasPrefix(l, "[") {
			h := strings.Trim(l, "[] \t")
			if j := strings.Index(h, "]"); j >= 0 {
				h = h[:j]
			}
			cur = strings.ReplaceAll(h, " ", "")
			if key == "" && cur == table {
				return i + 1
			}
			continue
		}
		if cur != table || key == "" {
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return i + 1
		}
	}
	return 0
}
