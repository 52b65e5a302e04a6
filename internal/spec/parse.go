package spec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// document turns TOML bytes into a tree of positioned values, keeping only what lies under
// prefix (nothing for pyship.toml, "tool.pyship" for pyproject.toml).
type document struct {
	file   string
	data   []byte
	lines  []int // byte offset of the start of each line
	prefix []string

	root  *node
	found bool // whether anything lies under prefix
	at    Pos  // where the spec starts: the [tool.pyship] header, or the first key

	// The table of the last [header] when it lies under prefix (nil otherwise), and the
	// full path of that header.
	cur     *table
	curFull []string

	errs Errors
	// syntax is set when parsing stopped at a syntax error.
	syntax bool
}

// parseDocument parses data, the contents of file. It reports TOML syntax errors and keys or
// tables defined twice; a syntax error stops parsing, so the tree is then incomplete.
func parseDocument(file string, data []byte, prefix []string) (d *document) {
	d = &document{file: file, data: data, prefix: prefix}
	d.lines = append(d.lines, 0)
	for i, c := range data {
		if c == '\n' {
			d.lines = append(d.lines, i+1)
		}
	}
	d.root = newTableNode(Pos{File: file, Line: 1, Col: 1}, Pos{File: file, Line: 1, Col: 1})
	if len(prefix) == 0 {
		d.cur = d.root.tbl
		d.found = true
		d.at = d.root.pos
	}
	defer func() {
		// The parser is third-party code: should it ever panic on odd input, report an
		// error instead of crashing the CLI.
		if r := recover(); r != nil {
			d.errs = append(d.errs, &Error{File: file, Msg: fmt.Sprintf("cannot parse TOML: %v", r)})
			d.syntax = true
		}
	}()
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			keys, _ := d.keyOf(e)
			d.header(keys, d.headerPos(e), false)
		case unstable.ArrayTable:
			keys, _ := d.keyOf(e)
			d.header(keys, d.headerPos(e), true)
		case unstable.KeyValue:
			keys, pos := d.keyOf(e)
			if v := d.value(e.Value(), d.valueStart(e)); v != nil {
				v.key = pos
				d.keyValue(keys, v)
			}
		}
	}
	if err := p.Error(); err != nil {
		d.errs = append(d.errs, d.syntaxError(err))
		d.syntax = true
	}
	return d
}

func (d *document) syntaxError(err error) *Error {
	var perr *unstable.ParserError
	if !errors.As(err, &perr) {
		return &Error{File: d.file, Msg: "invalid TOML: " + err.Error()}
	}
	off := cap(d.data) - cap(perr.Highlight)
	if perr.Highlight == nil || off < 0 || off > len(d.data) {
		off = len(d.data)
	}
	p := d.pos(off)
	return errAt(p, "", "fix the TOML syntax (see https://toml.io)", "invalid TOML: %s", perr.Message)
}

// pos turns a byte offset into a line and a column counted in characters.
func (d *document) pos(off int) Pos {
	off = min(max(off, 0), len(d.data))
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off })
	start := d.lines[line-1]
	return Pos{File: d.file, Line: line, Col: utf8.RuneCount(d.data[start:off]) + 1}
}

func (d *document) rangePos(r unstable.Range) Pos { return d.pos(int(r.Offset)) }

// keyOf returns the parts of a (possibly dotted) key and where it starts.
func (d *document) keyOf(e *unstable.Node) ([]string, Pos) {
	var keys []string
	var pos Pos
	it := e.Key()
	for it.Next() {
		k := it.Node()
		if keys == nil {
			pos = d.rangePos(k.Raw)
		}
		keys = append(keys, string(k.Data))
	}
	return keys, pos
}

// headerPos is where a [table] header starts: its first '['.
func (d *document) headerPos(e *unstable.Node) Pos {
	it := e.Key()
	it.Next()
	off := int(it.Node().Raw.Offset)
	for off > 0 && strings.IndexByte(" \t[", d.data[off-1]) >= 0 {
		off--
	}
	return d.pos(off)
}

// valueStart finds where the value of a key/value expression starts: after the last key
// part, the '=' and the blanks around it.
func (d *document) valueStart(kv *unstable.Node) int {
	end := 0
	it := kv.Key()
	for it.Next() {
		r := it.Node().Raw
		end = int(r.Offset + r.Length)
	}
	for end < len(d.data) && (d.data[end] == ' ' || d.data[end] == '\t' || d.data[end] == '=') {
		end++
	}
	return end
}

// header handles [a.b] and [[a.b]].
func (d *document) header(full []string, pos Pos, array bool) {
	d.curFull = full
	d.cur = nil
	if !hasPrefix(full, d.prefix) {
		return
	}
	d.markFound(pos)
	rel := full[len(d.prefix):]
	name := strings.Join(full, ".")
	if array && !isArrayTable(strings.Join(rel, ".")) {
		d.errs = append(d.errs, errAt(pos, strings.Join(rel, "."), "use a plain table: ["+name+"]",
			"[[%s]] declares an array of tables, which the spec does not use there", name))
		d.cur = newTable() // keep reading its keys, but nowhere that matters
		return
	}
	if array {
		d.arrayTable(rel, name, pos)
		return
	}
	t := d.root
	for i, k := range rel {
		child := t.tbl.get(k)
		last := i == len(rel)-1
		switch {
		case child == nil:
			child = newTableNode(pos, pos)
			t.tbl.set(k, child)
		case child.kind != vTable:
			d.errs = append(d.errs, errAt(pos, strings.Join(rel[:i+1], "."), "remove one of the two",
				"[%s] redefines %q, already set to a value at line %d", name, k, child.key.Line))
			d.cur = newTable()
			return
		case child.tbl.inline || (last && (child.tbl.header || child.tbl.dotted)):
			d.errs = append(d.errs, errAt(pos, strings.Join(rel[:i+1], "."), "merge the two into one table",
				"[%s] defines table %q a second time; it is first defined at line %d", name, strings.Join(full[:len(d.prefix)+i+1], "."), child.key.Line))
			d.cur = newTable()
			return
		}
		t = child
	}
	if len(rel) == 0 && t.tbl.header {
		d.errs = append(d.errs, errAt(pos, "", "merge the two into one table",
			"[%s] is defined a second time; it is first defined at line %d", name, t.key.Line))
		d.cur = newTable()
		return
	}
	if len(rel) == 0 {
		t.key, t.pos = pos, pos
	}
	t.tbl.header = true
	t.key = pos
	d.cur = t.tbl
}

// isArrayTable reports whether the spec has an array of tables at path.
func isArrayTable(path string) bool {
	for _, f := range fields() {
		if f.path == path {
			return f.kind == kindTables
		}
	}
	return false
}

// arrayTable handles [[a.b]]: a new table appended to the array at rel, creating the tables
// on the way; keys that follow go into the new table.
func (d *document) arrayTable(rel []string, name string, pos Pos) {
	d.cur = newTable()
	t := d.root
	for i, k := range rel[:len(rel)-1] {
		child := t.tbl.get(k)
		switch {
		case child == nil:
			child = newTableNode(pos, pos)
			t.tbl.set(k, child)
		case child.kind != vTable || child.tbl.inline:
			d.errs = append(d.errs, errAt(pos, strings.Join(rel[:i+1], "."), "remove one of the two",
				"[[%s]] cannot extend %q, already set at line %d", name, k, child.key.Line))
			return
		}
		t = child
	}
	k := rel[len(rel)-1]
	arr := t.tbl.get(k)
	switch {
	case arr == nil:
		arr = &node{kind: vArray, key: pos, pos: pos, arrayTables: true}
		t.tbl.set(k, arr)
	case !arr.arrayTables:
		d.errs = append(d.errs, errAt(pos, strings.Join(rel, "."), "use either [["+name+"]] tables or one array, not both",
			"[[%s]] adds to %q, already set at line %d", name, k, arr.key.Line))
		return
	}
	el := newTableNode(pos, pos)
	el.tbl.header = true
	arr.arr = append(arr.arr, el)
	d.cur = el.tbl
}

func (d *document) markFound(p Pos) {
	if !d.found {
		d.found, d.at = true, p
	}
}

// keyValue places key = value under the current table, or routes it under prefix when the
// current table lies outside (e.g. `pyship.run.port = 80` in [tool]).
func (d *document) keyValue(keys []string, v *node) {
	if d.cur != nil {
		d.insert(d.cur, keys, v, strings.Join(d.relOfCur(), "."))
		return
	}
	d.route(slices.Concat(d.curFull, keys), v)
}

func (d *document) relOfCur() []string {
	if len(d.curFull) < len(d.prefix) {
		return nil
	}
	return d.curFull[len(d.prefix):]
}

// route places a value set at a full path outside the current table: under prefix it goes
// into the tree; a table on the way to prefix (tool = {pyship = {...}}) is searched.
func (d *document) route(full []string, v *node) {
	switch {
	case hasPrefix(full, d.prefix):
		d.markFound(v.key)
		rel := full[len(d.prefix):]
		if len(rel) > 0 {
			d.insert(d.root.tbl, rel, v, "")
			return
		}
		if v.kind != vTable {
			d.errs = append(d.errs, errAt(v.pos, "", "write a [tool.pyship] table",
				"%s must be a table, got %s", strings.Join(full, "."), v.kind))
			return
		}
		for _, k := range v.tbl.keys {
			d.insert(d.root.tbl, []string{k}, v.tbl.m[k], "")
		}
	case hasPrefix(d.prefix, full) && v.kind == vTable:
		for _, k := range v.tbl.keys {
			d.route(append(slices.Clip(full), k), v.tbl.m[k])
		}
	}
}

// insert sets a dotted key in t, creating the tables on the way.
func (d *document) insert(t *table, keys []string, v *node, base string) {
	path := func(n int) string { return joinPath(base, strings.Join(keys[:n], ".")) }
	for i, k := range keys[:len(keys)-1] {
		child := t.get(k)
		switch {
		case child == nil:
			child = newTableNode(v.key, v.key)
			child.tbl.dotted = true
			t.set(k, child)
		case child.kind != vTable:
			d.errs = append(d.errs, errAt(v.key, path(i+1), "remove one of the two",
				"%q is already set to a value at line %d, so it cannot hold %q", path(i+1), child.key.Line, strings.Join(keys[i+1:], ".")))
			return
		case child.tbl.inline || child.tbl.header:
			d.errs = append(d.errs, errAt(v.key, path(i+1), "set all its keys in one place",
				"table %q is already defined at line %d and cannot be extended with dotted keys here", path(i+1), child.key.Line))
			return
		}
		t = child.tbl
	}
	k := keys[len(keys)-1]
	if prev := t.get(k); prev != nil {
		d.errs = append(d.errs, errAt(v.key, path(len(keys)), "remove one of the two",
			"%q is already set at line %d", path(len(keys)), prev.key.Line))
		return
	}
	t.set(k, v)
}

// value converts a parsed value; start is the offset where it begins when the caller knows it
// (arrays carry no position of their own). It returns nil after reporting a bad value.
func (d *document) value(v *unstable.Node, start int) *node {
	n := &node{}
	if v.Kind == unstable.Array {
		n.pos = d.pos(start)
	} else {
		n.pos = d.rangePos(v.Raw)
	}
	raw := string(v.Data)
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = vString, raw
	case unstable.Bool:
		n.kind, n.str, n.b = vBool, raw, raw == "true"
	case unstable.Integer:
		i, err := parseInt(raw)
		if err != nil {
			d.errs = append(d.errs, errAt(n.pos, "", "", "invalid TOML integer %s: %v", raw, err))
			return nil
		}
		n.kind, n.str, n.i = vInt, raw, i
	case unstable.Float:
		f, err := parseFloat(raw)
		if err != nil {
			d.errs = append(d.errs, errAt(n.pos, "", "", "invalid TOML float %s: %v", raw, err))
			return nil
		}
		n.kind, n.str, n.f = vFloat, raw, f
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		n.kind, n.str = vDateTime, raw
	case unstable.Array:
		n.kind, n.arr = vArray, []*node{}
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			cs := start
			if c.Kind != unstable.Array {
				cs = int(c.Raw.Offset)
			}
			e := d.value(c, cs)
			if e == nil {
				return nil
			}
			n.arr = append(n.arr, e)
		}
	case unstable.InlineTable:
		n.kind, n.tbl = vTable, newTable()
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			keys, kpos := d.keyOf(c)
			e := d.value(c.Value(), d.valueStart(c))
			if e == nil {
				return nil
			}
			e.key = kpos
			d.insert(n.tbl, keys, e, "")
		}
		n.tbl.inline = true
	default:
		d.errs = append(d.errs, errAt(n.pos, "", "", "unsupported TOML value %s", raw))
		return nil
	}
	return n
}

// parseInt decodes a TOML integer: decimal with optional sign, or 0x, 0o, 0b; '_' between digits.
func parseInt(s string) (int64, error) {
	if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xob", rune(s[1])) {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]]
		digits := strings.ReplaceAll(s[2:], "_", "")
		if digits == "" || digits[0] == '+' || digits[0] == '-' {
			return 0, errors.New("missing digits")
		}
		u, err := strconv.ParseUint(digits, base, 63)
		if err != nil {
			return 0, numError(err)
		}
		return int64(u), nil
	}
	body := strings.TrimLeft(s, "+-")
	if len(body) > 1 && body[0] == '0' {
		return 0, errors.New("leading zeros are not allowed")
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, numError(err)
	}
	return i, nil
}

func parseFloat(s string) (float64, error) {
	switch strings.TrimLeft(s, "+-") {
	case "inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, numError(err)
	}
	return f, nil
}

func numError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		if errors.Is(ne.Err, strconv.ErrRange) {
			return errors.New("out of range")
		}
		return errors.New("not a number")
	}
	return err
}

func hasPrefix(s, prefix []string) bool {
	return len(s) >= len(prefix) && slices.Equal(s[:len(prefix)], prefix)
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}
