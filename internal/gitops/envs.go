package gitops

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pyship/pyship/internal/plan"
)

// EnvDifference is one value of the resolved plan that differs between environments.
type EnvDifference struct {
	// Key is the value's path in the plan JSON (docs/plan-json.md), e.g. deploy.replicas.
	Key string `json:"key"`
	// Values maps each env (and "" for the spec without an overlay) to the value's JSON;
	// "" when the env does not set it.
	Values map[string]string `json:"values"`
}

// CompareEnvs lists the values that differ between the plans of several envs, by key. The
// plans' own folder, env name and evidence are left out.
func CompareEnvs(plans map[string]*plan.Plan) ([]EnvDifference, error) {
	flat := map[string]map[string]string{}
	keys := map[string]bool{}
	for env, p := range plans {
		q := *p
		q.Dir, q.Environment, q.Evidence = "", "", nil // evidence explains values; it is not one
		b, err := json.Marshal(q)
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		m := map[string]string{}
		flatten("", v, m)
		flat[env] = m
		for k := range m {
			keys[k] = true
		}
	}
	var out []EnvDifference
	for k := range keys {
		d := EnvDifference{Key: k, Values: map[string]string{}}
		first, differs := "", false
		i := 0
		for env, m := range flat {
			d.Values[env] = m[k]
			if i == 0 {
				first = m[k]
			} else if m[k] != first {
				differs = true
			}
			i++
		}
		if differs {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// flatten writes the leaves of v by dotted path (list items by index), as JSON.
func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			flatten(join(prefix, k), e, out)
		}
	case []any:
		if len(t) == 0 {
			out[prefix] = "[]"
		}
		for i, e := range t {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	default:
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// WriteEnvTable writes the differences as a table: one row per key, one column per env in
// envs order ("" is shown as "(base)"), "-" where an env does not set the value.
func WriteEnvTable(w io.Writer, envs []string, diffs []EnvDifference) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"KEY"}
	for _, e := range envs {
		if e == "" {
			e = "(base)"
		}
		head = append(head, strings.ToUpper(e))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, d := range diffs {
		row := []string{d.Key}
		for _, e := range envs {
			v := d.Values[e]
			if v == "" {
				v = "-"
			}
			row = append(row, v)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
