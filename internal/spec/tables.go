package spec

import (
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/monitor/promql"
)

// tables decodes an array of tables ([[deploy.canary.checks]], the only one): each element's
// keys are checked against the fields under f like any table's, then the element is checked
// as a whole. Errors name the element, e.g. deploy.canary.checks[1].query.
func (d *decoder) tables(f *field, n *node) {
	if n.kind != vArray {
		d.errorf(n, n.pos, f.path, fmt.Sprintf("write one [[%s%s]] table per element", d.tablePrefix, f.path), "must be an array of tables, got %s", n.kind)
		return
	}
	d.spec.Positions[f.path] = n.key
	names := map[string]int{}
	for i, el := range n.arr {
		at := fmt.Sprintf("%s[%d]", f.path, i)
		if el.kind != vTable {
			d.errorf(n, el.pos, at, fmt.Sprintf("write one [[%s%s]] table per element", d.tablePrefix, f.path), "must be a table, got %s", el.kind)
			continue
		}
		vals := map[string]any{}
		ok := true
		for _, k := range el.tbl.keys {
			v := el.tbl.m[k]
			sub := d.index[f.path+"."+k]
			if sub == nil {
				allowed := childNames(d.fields, f.path)
				hint := ""
				if s := suggest(k, allowed); s != "" {
					hint = fmt.Sprintf("did you mean %q?", s)
				}
				d.errorf(n, v.key, at+"."+k, hint, "unknown key %q in [[%s%s]]; allowed keys: %s", k, d.tablePrefix, f.path, strings.Join(allowed, ", "))
				ok = false
				continue
			}
			val, good := d.convert(sub, v)
			if !good {
				ok = false
				continue
			}
			if s, isStr := val.(string); isStr && sub.check != nil {
				if msg, hint := sub.check(s); msg != "" {
					d.errorf(n, v.pos, at+"."+k, hint, "%s", msg)
					ok = false
					continue
				}
			}
			vals[k] = val
		}
		if !ok {
			continue
		}
		d.check(n, el, at, vals, names)
	}
}

// check finishes one [[deploy.canary.checks]] table: name and query required, the query
// parsed by Prometheus' parser, a threshold set.
func (d *decoder) check(n, el *node, at string, vals map[string]any, names map[string]int) {
	c := CanaryCheck{Pos: el.pos}
	c.Name, _ = vals["name"].(string)
	c.Query, _ = vals["query"].(string)
	if v, ok := vals["max"].(float64); ok {
		c.Max = &v
	}
	if v, ok := vals["min"].(float64); ok {
		c.Min = &v
	}
	bad := false
	if c.Name == "" {
		d.errorf(n, el.pos, at+".name", `add name = "error-rate" (a DNS-1123 label)`, "a check needs a name")
		bad = true
	} else if first, dup := names[c.Name]; dup {
		d.errorf(n, el.tbl.m["name"].pos, at+".name", "give each check its own name", "check %q is already defined by deploy.canary.checks[%d]", c.Name, first)
		bad = true
	} else {
		names[c.Name] = len(names)
	}
	label := at
	if c.Name != "" {
		label = fmt.Sprintf("%s (check %q)", at, c.Name)
	}
	if c.Query == "" {
		d.errorf(n, el.pos, at+".query", "add query = '...' (PromQL giving one number)", "check %s needs a query", label)
		bad = true
	} else if err := promql.Parse(c.Query); err != nil {
		d.errorf(n, el.tbl.m["query"].pos, at+".query", "fix the PromQL at that line:column of the query", "check %q: %v", c.Name, err)
		bad = true
	}
	switch {
	case c.Max == nil && c.Min == nil:
		d.errorf(n, el.pos, at, "add max = ... and/or min = ...", "check %s has no threshold", label)
		bad = true
	case c.Max != nil && c.Min != nil && *c.Min > *c.Max:
		d.errorf(n, el.tbl.m["min"].pos, at+".min", "swap them, or fix one", "check %s: min %v is above max %v, so nothing could pass", label, *c.Min, *c.Max)
		bad = true
	}
	if bad {
		return
	}
	d.spec.Deploy.Canary.Checks = append(d.spec.Deploy.Canary.Checks, c)
	d.spec.Positions[at] = el.pos
}
