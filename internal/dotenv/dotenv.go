package dotenv

import (
	"fmt"
	"os"
	"strings"
)

// Read parses the dotenv file path: one KEY=value a line, blank lines and # comments skipped,
// an optional leading "export ", the value trimmed and, when it is wrapped in matching single
// or double quotes, unwrapped. Nothing else is interpreted: no escapes, no ${VAR} expansion
// (a secret with a $ in it stays as written), no comment after a value. A line without "="
// or with an empty key is an error naming path:line. A missing file is an error naming it and
// the spec key.
func Read(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the secrets file %s ([secrets] file): %w", path, err)
	}
	return Parse(path, string(b))
}

// Parse is Read of text; name is the file name its errors give.
func Parse(name, text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: expected KEY=value", name, i+1)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, nil
}
