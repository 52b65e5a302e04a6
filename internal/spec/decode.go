package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// decoder turns a tree into a Spec, strictly: unknown keys and wrong types are errors.
type decoder struct {
	fields []*field
	index  map[string]*field
	// tablePrefix is put before table names in messages ("tool.pyship." in pyproject.toml).
	tablePrefix string
	spec        *Spec
	// nodes holds the value of every field set, by dotted path, for validation.
	nodes map[string]*node
	errs  Errors
}

func newDecoder(fs []*field, tablePrefix string) *decoder {
	return &decoder{
		fields: fs, index: fieldIndex(fs), tablePrefix: tablePrefix,
		spec:  &Spec{Env: map[string]string{}, Positions: map[string]Pos{}},
		nodes: map[string]*node{},
	}
}

// fieldName is how errors name path: overlay keys are named where they were written,
// "env.production.run.port" rather than "run.port".
func fieldName(path string, n *node) string {
	if n != nil && n.overlay != "" {
		return "env." + n.overlay + "." + path
	}
	return path
}

func (d *decoder) errorf(n *node, at Pos, path, hint, format string, args ...any) {
	d.errs = append(d.errs, errAt(at, fieldName(path, n), hint, format, args...))
}

// tableName is how messages name the table at path: "[run]", "the top level".
func (d *decoder) tableName(path string) string {
	if path == "" && d.tablePrefix == "" {
		return "the top level"
	}
	return "[" + strings.TrimSuffix(d.tablePrefix+path, ".") + "]"
}

// inTable is "in [run]", or "at the top level".
func (d *decoder) inTable(path string) string {
	if path == "" && d.tablePrefix == "" {
		return "at the top level"
	}
	return "in " + d.tableName(path)
}

func (d *decoder) table(t *table, parent string) {
	for _, k := range t.keys {
		n := t.m[k]
		path := joinPath(parent, k)
		if path == "env" {
			d.env(n)
			continue
		}
		f := d.index[path]
		if f == nil {
			d.unknownKey(n, parent, k)
			continue
		}
		if f.kind == kindTable {
			if n.kind != vTable {
				d.errorf(n, n.pos, path, fmt.Sprintf("write the keys of %s under a [%s%s] header", d.tableName(path), d.tablePrefix, path),
					"must be a table, got %s", n.kind)
				continue
			}
			d.table(n.tbl, path)
			continue
		}
		if f.kind == kindTables {
			d.tables(f, n)
			continue
		}
		d.leaf(f, n)
	}
}

func (d *decoder) unknownKey(n *node, parent, k string) {
	allowed := childNames(d.fields, parent)
	hint := ""
	if s := suggest(k, allowed); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	} else {
		for _, f := range d.fields {
			if f.name() == k && f.parent() != parent {
				hint = fmt.Sprintf("%q belongs in [%s%s]", k, d.tablePrefix, f.parent())
				break
			}
		}
	}
	d.errorf(n, n.key, joinPath(parent, k), hint, "unknown key %q %s; allowed keys: %s", k, d.inTable(parent), strings.Join(allowed, ", "))
}

// env decodes [env]: scalar keys are variables, tables are overlays (handled by the caller,
// which removed them from the tree before decoding).
func (d *decoder) env(n *node) {
	if n.kind != vTable {
		d.errorf(n, n.pos, "env", `write [env] with one KEY = "value" line per variable`, "must be a table, got %s", n.kind)
		return
	}
	for _, k := range n.tbl.keys {
		v := n.tbl.m[k]
		path := "env." + k
		if v.kind == vTable {
			continue
		}
		s, ok := envValue(v)
		if !ok {
			d.errorf(v, v.pos, path, fmt.Sprintf("write %s = \"...\" for a variable, or [%senv.%s] for an environment overlay", k, d.tablePrefix, k),
				"must be a string, number or boolean (an environment variable), got %s", v.kind)
			continue
		}
		if !isVarName(k) {
			d.errorf(v, v.key, path, "use letters, digits and '_', not starting with a digit, e.g. "+strings.ToUpper(toVarName(k)),
				"%q is not a valid environment variable name", k)
			continue
		}
		d.spec.Env[k] = s
		d.spec.Positions[path] = v.key
		d.nodes[path] = v
	}
}

func toVarName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// envValue is the string form of an environment variable's value.
func envValue(v *node) (string, bool) {
	switch v.kind {
	case vString:
		return v.str, true
	case vInt:
		return strconv.FormatInt(v.i, 10), true
	case vFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64), true
	case vBool:
		return strconv.FormatBool(v.b), true
	}
	return "", false
}

// leaf decodes one scalar or array key into the Spec.
func (d *decoder) leaf(f *field, n *node) {
	val, ok := d.convert(f, n)
	if !ok {
		return
	}
	setValue(f.ptr(d.spec), val)
	d.spec.Positions[f.path] = n.key
	d.nodes[f.path] = n
}

// convert checks the TOML type of a key's value and returns it as the field's Go type.
func (d *decoder) convert(f *field, n *node) (any, bool) {
	wrong := func(at *node, hint string) {
		if hint == "" {
			hint = fmt.Sprintf("write %s = %s", f.name(), f.example)
		}
		d.errorf(n, at.pos, f.path, hint, "must be %s, got %s", article(f.kind.typeName()), at.kind)
	}
	quoted := func() string { return fmt.Sprintf("quote it: %s = %q", f.name(), n.str) }
	var val any
	switch f.kind {
	case kindString:
		if n.kind != vString {
			hint := ""
			if n.kind == vInt || n.kind == vFloat || n.kind == vDateTime {
				hint = quoted()
			}
			wrong(n, hint)
			return nil, false
		}
		val = n.str
	case kindInt:
		switch {
		case n.kind == vInt:
			val = int(n.i)
			if int64(int(n.i)) != n.i {
				d.errorf(n, n.pos, f.path, "", "is out of range: %s", n.str)
				return nil, false
			}
		case n.kind == vFloat && n.f == math.Trunc(n.f) && math.Abs(n.f) < 1e15:
			wrong(n, fmt.Sprintf("write %s = %d", f.name(), int64(n.f)))
			return nil, false
		case n.kind == vString:
			if _, err := strconv.Atoi(n.str); err == nil {
				wrong(n, fmt.Sprintf("remove the quotes: %s = %s", f.name(), n.str))
				return nil, false
			}
			wrong(n, "")
			return nil, false
		default:
			wrong(n, "")
			return nil, false
		}
	case kindFloat:
		switch n.kind {
		case vFloat:
			val = n.f
		case vInt:
			val = float64(n.i)
		default:
			wrong(n, "")
			return nil, false
		}
	case kindBool:
		if n.kind != vBool {
			hint := ""
			if n.kind == vString && (n.str == "true" || n.str == "false") {
				hint = fmt.Sprintf("remove the quotes: %s = %s", f.name(), n.str)
			}
			wrong(n, hint)
			return nil, false
		}
		val = n.b
	case kindDuration:
		if n.kind != vString {
			hint := ""
			if n.kind == vInt {
				hint = durationHint(f, n.str, `write %s = "%s%s" (or another unit: ms, s, m, h)`)
			}
			wrong(n, hint)
			return nil, false
		}
		dur, err := time.ParseDuration(n.str)
		if err != nil {
			hint := ""
			if _, nerr := strconv.ParseFloat(n.str, 64); nerr == nil {
				hint = durationHint(f, n.str, `add a unit: %s = "%s%s"`)
			}
			d.errorf(n, n.pos, f.path, hint, `must be a duration like "30s", "500ms" or "5m" (units ns, us, ms, s, m, h), got %q`, n.str)
			return nil, false
		}
		val = dur
	case kindStrings, kindInts:
		want := vString
		if f.kind == kindInts {
			want = vInt
		}
		if n.kind != vArray {
			hint := ""
			if n.kind == want {
				hint = fmt.Sprintf("write %s = [%s]", f.name(), tomlScalar(n))
			}
			wrong(n, hint)
			return nil, false
		}
		strs, ints := []string{}, []int{}
		ok := true
		for _, e := range n.arr {
			if e.kind != want {
				d.errorf(n, e.pos, f.path, fmt.Sprintf("write %s = %s", f.name(), f.example), "must be %s, got an element of type %s", article(f.kind.typeName()), e.kind)
				ok = false
				continue
			}
			strs = append(strs, e.str)
			ints = append(ints, int(e.i))
		}
		if !ok {
			return nil, false
		}
		if f.kind == kindStrings {
			val = strs
		} else {
			val = ints
		}
	}
	return val, true
}

func tomlScalar(n *node) string {
	if n.kind == vString {
		return strconv.Quote(n.str)
	}
	return n.str
}

// setValue stores val (of the Go type matching the field's kind) through ptr.
func setValue(ptr, val any) {
	switch p := ptr.(type) {
	case *string:
		*p = val.(string)
	case *int:
		*p = val.(int)
	case *float64:
		*p = val.(float64)
	case *bool:
		*p = val.(bool)
	case *time.Duration:
		*p = val.(time.Duration)
	case *[]string:
		*p = val.([]string)
	case *[]int:
		*p = val.([]int)
	}
}

// article puts "a" or "an" before a type name.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// durationHint suggests writing the number x (as written) with a unit, through format (which
// takes the key, the number and the unit: seconds, or milliseconds when that many seconds
// would be over the field's maximum, as for latency = 300). Durations must be greater than 0: a negative number gets its
// positive counterpart suggested instead, and 0 the default.
func durationHint(f *field, x, format string) string {
	v, err := strconv.ParseFloat(x, 64)
	switch {
	case err != nil || v > 0:
		unit := "s"
		if f.maxDur > 0 && err == nil && time.Duration(v*float64(time.Second)) > f.maxDur {
			unit = "ms"
		}
		return fmt.Sprintf(format, f.name(), x, unit)
	case v < 0:
		return fmt.Sprintf(`durations must be positive: write e.g. %s = "%ss"`, f.name(), strings.TrimPrefix(x, "-"))
	case f.def != "":
		return fmt.Sprintf(`durations must be positive: write e.g. %s = %s (the default), or remove the key`, f.name(), f.def)
	}
	return fmt.Sprintf(`durations must be positive: write e.g. %s = "1s"`, f.name())
}

// defaultIn is " (DEFAULT)" for a field with a documented default, else "".
func defaultIn(f *field) string {
	if f.def == "" {
		return ""
	}
	return " (" + f.def + ")"
}
