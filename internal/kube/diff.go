package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// ObjectDiff is what applying would change on one object.
type ObjectDiff struct {
	Kind, Name string
	// Action is "create", "update" or "delete" (prune).
	Action string
	// Text is a unified-style line diff of the object's YAML (secret values masked).
	Text string
}

// Diff asks the server what applying b would change (server-side dry run against the live
// objects, as the rollout would apply them) and which owned objects pruning would delete. force
// shows what taking over fields owned by other managers would change, instead of ErrConflict.
func (c *Client) Diff(ctx context.Context, b *Bundle, force bool) ([]ObjectDiff, error) {
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return nil, err
	}
	serving := st.Active
	if serving == "" {
		serving = b.Release
	}
	view := rolloutBundle(b, serving)
	if st.Phase == PhaseNone {
		if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, b.App, metav1.GetOptions{}); err == nil {
			view = ForKubectl(b) // applied from `pyship render` (kubectl, GitOps): compared as such
		}
	}
	var out []ObjectDiff
	want := map[string]bool{}
	for _, u := range view.Objects {
		want[u.GetKind()+"/"+u.GetName()] = true
		m, err := c.resourceFor(u)
		if err != nil {
			if optionalKinds[u.GetKind()] {
				continue
			}
			return nil, fmt.Errorf("diff %s %s: the cluster does not serve %s: %w", u.GetKind(), u.GetName(), u.GroupVersionKind().GroupVersion(), err)
		}
		live, err := c.resource(m, b.Namespace).Get(ctx, u.GetName(), metav1.GetOptions{})
		if isNotFound(err) {
			out = append(out, ObjectDiff{Kind: u.GetKind(), Name: u.GetName(), Action: "create", Text: lineDiff("", objectText(u))})
			continue
		}
		if err != nil {
			return nil, objectError("get", u, m.Resource.Resource, b.Namespace, err)
		}
		dry, err := c.ApplyObject(ctx, u.DeepCopy(), force, true)
		if err != nil {
			return nil, err
		}
		a, z := objectText(live), objectText(dry)
		if a != z {
			out = append(out, ObjectDiff{Kind: u.GetKind(), Name: u.GetName(), Action: "update", Text: lineDiff(a, z)})
		}
	}
	kinds, err := c.inventoryKinds(ctx, b)
	if err != nil {
		return nil, err
	}
	sel := LabelPartOf + "=" + ApplySetID(b.App, b.Namespace)
	for _, k := range sortedSet(kinds) {
		m, err := c.mappingFor(k)
		if err != nil {
			continue
		}
		list, err := c.resource(m, b.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("diff: listing %s: %w", m.Resource.Resource, err)
		}
		for i := range list.Items {
			it := &list.Items[i]
			if want[it.GetKind()+"/"+it.GetName()] || it.GetLabels()[LabelRelease] != "" || it.GetAnnotations()[AnnotationKeep] == "true" {
				continue
			}
			out = append(out, ObjectDiff{Kind: it.GetKind(), Name: it.GetName(), Action: "delete", Text: lineDiff(objectText(it), "")})
		}
	}
	return out, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objectText is the comparable YAML of an object: server bookkeeping dropped, secrets masked.
func objectText(u *unstructured.Unstructured) string {
	u = u.DeepCopy()
	for _, f := range [][]string{
		{"status"}, {"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "uid"},
		{"metadata", "generation"}, {"metadata", "creationTimestamp"},
		{"metadata", "annotations", "deployment.kubernetes.io/revision"},
	} {
		unstructured.RemoveNestedField(u.Object, f...)
	}
	if a := u.GetAnnotations(); a != nil && len(a) == 0 {
		unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
	}
	if u.GetKind() == "Secret" {
		data, _, _ := unstructured.NestedMap(u.Object, "data")
		for k, v := range data {
			h := sha256.Sum256([]byte(fmt.Sprint(v)))
			data[k] = "(hidden, sha256 " + hex.EncodeToString(h[:])[:12] + ")"
		}
		if data != nil {
			_ = unstructured.SetNestedMap(u.Object, data, "data")
		}
	}
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return fmt.Sprintf("(cannot print: %v)", err)
	}
	return string(b)
}

// diffContext is how many unchanged lines are shown around each change.
const diffContext = 3

// lineDiff is a unified-style diff ("-" old, "+" new, "  " same) over lines, showing only the
// changes with a few lines of context; hunks are separated by "@@" lines.
func lineDiff(a, b string) string {
	x, y := splitLines(a), splitLines(b)
	// Longest common subsequence table; objects are a few hundred lines at most.
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	type op struct {
		mark string
		line string
	}
	var ops []op
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, op{"  ", x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || l[i+1][j] >= l[i][j+1]):
			ops = append(ops, op{"- ", x[i]})
			i++
		default:
			ops = append(ops, op{"+ ", y[j]})
			j++
		}
	}
	show := make([]bool, len(ops))
	for k, o := range ops {
		if o.mark != "  " {
			for m := max(k-diffContext, 0); m <= min(k+diffContext, len(ops)-1); m++ {
				show[m] = true
			}
		}
	}
	var sb strings.Builder
	for k, o := range ops {
		if !show[k] {
			continue
		}
		if sb.Len() > 0 && !show[k-1] {
			sb.WriteString("@@\n")
		}
		sb.WriteString(o.mark + o.line + "\n")
	}
	return sb.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
