package spec

import (
	"fmt"
	"slices"
	"strings"
)

// overlay is one [env.NAME] table.
type overlay struct {
	name string
	n    *node
}

// splitOverlays returns a copy of root without its [env.NAME] tables, and those tables with the
// keys an overlay may not hold removed (each reported). Overlays are sorted by name.
func splitOverlays(root *node, tablePrefix string) (*node, []overlay, Errors) {
	base := root.clone()
	env := base.tbl.get("env")
	if env == nil || env.kind != vTable {
		return base, nil, nil
	}
	var ovs []overlay
	var errs Errors
	for _, k := range slices.Clone(env.tbl.keys) {
		v := env.tbl.get(k)
		if v.kind != vTable {
			continue
		}
		env.tbl.del(k)
		if !isLabel(k) {
			hint := fmt.Sprintf("to set a variable, give it a value: %s = \"...\"", k)
			if !isVarName(k) {
				hint = ""
				if l := toLabel(k); l != "" {
					hint = fmt.Sprintf("try [%senv.%s]", tablePrefix, l)
				}
			}
			errs = append(errs, errAt(v.key, "env."+k, hint,
				"environment overlay name %q must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)", k))
			continue
		}
		if nm := v.tbl.get("name"); nm != nil {
			errs = append(errs, errAt(nm.key, "env."+k+".name", "set name once, at the top level",
				"cannot be set in an environment overlay: an app keeps one name in every environment"))
			v.tbl.del("name")
		}
		if vars := v.tbl.get("env"); vars != nil && vars.kind == vTable {
			for _, kk := range slices.Clone(vars.tbl.keys) {
				if nested := vars.tbl.get(kk); nested.kind == vTable {
					errs = append(errs, errAt(nested.key, "env."+k+".env."+kk, fmt.Sprintf("declare it at the top level as [%senv.%s]", tablePrefix, kk),
						"environment overlays cannot be nested: [%senv.%s.env] holds variables only", tablePrefix, k))
					vars.tbl.del(kk)
				}
			}
		}
		markOverlay(v, k)
		ovs = append(ovs, overlay{name: k, n: v})
	}
	slices.SortFunc(ovs, func(a, b overlay) int { return strings.Compare(a.name, b.name) })
	return base, ovs, errs
}

func markOverlay(n *node, name string) {
	n.overlay = name
	for _, e := range n.arr {
		markOverlay(e, name)
	}
	if n.tbl != nil {
		for _, k := range n.tbl.keys {
			markOverlay(n.tbl.m[k], name)
		}
	}
}

// merge lays src over dst: tables merge key by key, everything else replaces.
func merge(dst, src *node) {
	for _, k := range src.tbl.keys {
		s := src.tbl.m[k]
		if d := dst.tbl.get(k); d != nil && d.kind == vTable && s.kind == vTable {
			merge(d, s)
			continue
		}
		dst.tbl.set(k, s)
	}
}
