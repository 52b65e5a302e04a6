package spec

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Entry is one key written by Render.
type Entry struct {
	// Path is the dotted key, e.g. "name", "run.port", "deploy.canary.steps" or "env.DEBUG".
	// An entry with an empty Path writes only its Comment, as a paragraph of the top section.
	Path string
	// Value is a string, an integer, a float, a bool, a []string, an []int or a time.Duration
	// (written as a duration string like "30s").
	Value any
	// Comment is written as "# ..." lines above the key.
	Comment string
	// Commented writes the key itself as a comment ("# key = value"), a suggestion to uncomment.
	Commented bool
}

// Render writes entries as a tidy, commented TOML document: top-level keys first, then one
// [table] per group of keys in the order the groups first appear.
func Render(entries []Entry) ([]byte, error) {
	type group struct {
		name    string
		entries []Entry
	}
	var groups []*group
	byName := map[string]*group{}
	top := &group{}
	for _, e := range entries {
		if e.Path == "" {
			top.entries = append(top.entries, e)
			continue
		}
		parts := strings.Split(e.Path, ".")
		for _, p := range parts {
			if p == "" {
				return nil, fmt.Errorf("rendering spec: key %q has an empty part", e.Path)
			}
		}
		name := strings.Join(parts[:len(parts)-1], ".")
		if name == "" {
			top.entries = append(top.entries, e)
			continue
		}
		g := byName[name]
		if g == nil {
			g = &group{name: name}
			byName[name] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, e)
	}

	var b bytes.Buffer
	seen := map[string]bool{}
	write := func(g *group) error {
		for i, e := range g.entries {
			if e.Comment != "" && i > 0 {
				b.WriteByte('\n')
			}
			writeComment(&b, e.Comment)
			if e.Path == "" {
				continue
			}
			full := e.Path
			if seen[full] {
				return fmt.Errorf("rendering spec: key %q is given twice", full)
			}
			seen[full] = true
			v, err := tomlValue(e.Value)
			if err != nil {
				return fmt.Errorf("rendering spec: key %q: %w", full, err)
			}
			if e.Commented {
				b.WriteString("# ")
			}
			fmt.Fprintf(&b, "%s = %s\n", tomlKey(full[strings.LastIndexByte(full, '.')+1:]), v)
		}
		return nil
	}
	if err := write(top); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		parts := strings.Split(g.name, ".")
		for i, p := range parts {
			parts[i] = tomlKey(p)
		}
		fmt.Fprintf(&b, "[%s]\n", strings.Join(parts, "."))
		if err := write(g); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func writeComment(b *bytes.Buffer, c string) {
	if c == "" {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(c, "\n"), "\n") {
		if line == "" {
			b.WriteString("#\n")
			continue
		}
		b.WriteString("# " + line + "\n")
	}
}

// tomlKey writes a key bare when it can, quoted otherwise.
func tomlKey(k string) string {
	for _, c := range []byte(k) {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return tomlString(k)
		}
	}
	return k
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlValue encodes one value.
func tomlValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return tomlString(x), nil
	case time.Duration:
		return tomlString(formatDuration(x)), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case float64:
		return tomlFloat(x), nil
	case float32:
		return tomlFloat(float64(x)), nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case []int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case nil:
		return "", fmt.Errorf("no value")
	}
	return "", fmt.Errorf("cannot write a value of type %T", v)
}

func tomlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}
