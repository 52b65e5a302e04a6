package gitops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v4/value"
)

// LiveObject is what a saved plan saw of one live object the change touches.
type LiveObject struct {
	// Hash digests the object's content: what its field managers set, without its status,
	// the API server's bookkeeping (resourceVersion, generation, uid, managedFields,
	// creation time) and the fields only the cluster's own controllers write (the
	// Deployment controller's revision annotation, a claim's bound volume). So a controller
	// writing status does not change it; anyone's change to spec, data, labels or
	// annotations does. "" is an absent object.
	Hash string `json:"hash,omitempty"`
	// Managers maps each field manager of the content other than the cluster's own,
	// "manager (Operation[ of subresource])", to the time it last changed its fields:
	// what a stale plan's error names.
	Managers map[string]string `json:"managers,omitempty"`
	// Fields are those managers' fields, by manager, read at apply for the stale error (not
	// saved in the plan).
	Fields map[string][]string `json:"-"`
}

// Fingerprint reads what applying b would touch: each of its objects, the app's inventory
// Secret (which holds the rollout state) and every object the inventory lists for the app
// (what pruning may delete), each as a LiveObject keyed "Kind/name".
func Fingerprint(ctx context.Context, c *kube.Client, b *kube.Bundle) (map[string]LiveObject, error) {
	live := map[string]LiveObject{}
	for _, o := range b.Objects {
		gvk := o.GroupVersionKind()
		m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			continue // a kind the cluster does not serve (optional monitoring objects)
		}
		u, err := c.Dynamic.Resource(m.Resource).Namespace(b.Namespace).Get(ctx, o.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			live[o.GetKind()+"/"+o.GetName()] = LiveObject{}
		case err != nil:
			return nil, fmt.Errorf("reading %s %s: %w", o.GetKind(), o.GetName(), err)
		default:
			if live[o.GetKind()+"/"+o.GetName()], err = liveObject(u); err != nil {
				return nil, err
			}
		}
	}
	inv, objs, err := inventory(ctx, c, b.Namespace, b.App)
	if err != nil {
		return nil, err
	}
	if inv == nil {
		live["Secret/"+kube.ApplySetParentName(b.App)] = LiveObject{}
		return live, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(inv)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetKind("Secret")
	if live["Secret/"+inv.Name], err = liveObject(u); err != nil {
		return nil, err
	}
	for i := range objs {
		if live[objs[i].GetKind()+"/"+objs[i].GetName()], err = liveObject(&objs[i]); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// liveObject digests u's content (see LiveObject) and lists its field managers.
func liveObject(u *unstructured.Unstructured) (LiveObject, error) {
	what := u.GetKind() + " " + u.GetName()
	system, others := &fieldpath.Set{}, &fieldpath.Set{}
	lo := LiveObject{Managers: map[string]string{}, Fields: map[string][]string{}}
	for _, mf := range u.GetManagedFields() {
		if mf.Subresource == "status" || mf.FieldsV1 == nil {
			continue // status is not content
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(mf.FieldsV1.Raw)); err != nil {
			return LiveObject{}, fmt.Errorf("reading the managed fields of %s: %w", what, err)
		}
		if systemManagers[mf.Manager] {
			system = system.Union(set)
			continue
		}
		others = others.Union(set)
		key := managerKey(mf)
		if mf.Time != nil {
			lo.Managers[key] = mf.Time.UTC().Format(time.RFC3339)
		} else {
			lo.Managers[key] = ""
		}
		var tree map[string]any
		if err := json.Unmarshal(mf.FieldsV1.Raw, &tree); err != nil {
			return LiveObject{}, fmt.Errorf("reading the managed fields of %s: %w", what, err)
		}
		fields := fieldPaths("", tree)
		sort.Strings(fields)
		lo.Fields[key] = fields
	}
	content := u.DeepCopy().Object
	delete(content, "status")
	if md, ok := content["metadata"].(map[string]any); ok {
		for _, k := range []string{"resourceVersion", "generation", "uid", "creationTimestamp", "managedFields", "selfLink"} {
			delete(md, k)
		}
	}
	// The fields that only the cluster's controllers own, and nobody else's fields below.
	all := system.Union(others)
	var strip []field
	system.Difference(others).Iterate(func(p fieldpath.Path) {
		if f, ok := locate(content, p); ok && !hasDescendants(all, p) {
			strip = append(strip, f)
		}
	})
	for _, f := range strip {
		f.clear()
	}
	b, err := json.Marshal(content) // encoding/json sorts map keys: one digest per content
	if err != nil {
		return LiveObject{}, err
	}
	sum := sha256.Sum256(b)
	lo.Hash = "sha256:" + hex.EncodeToString(sum[:])
	return lo, nil
}

func managerKey(mf metav1.ManagedFieldsEntry) string {
	if mf.Subresource != "" {
		return fmt.Sprintf("%s (%s of %s)", mf.Manager, mf.Operation, mf.Subresource)
	}
	return fmt.Sprintf("%s (%s)", mf.Manager, mf.Operation)
}

// hasDescendants reports whether the set holds a field below p.
func hasDescendants(s *fieldpath.Set, p fieldpath.Path) bool {
	for _, pe := range p {
		child, ok := s.Children.Get(pe)
		if !ok {
			return false
		}
		s = child
	}
	return !s.Empty()
}

// field is where a field is in an object tree (maps and lists as JSON decodes them): the key
// of a map, or the index of a list.
type field struct {
	m   map[string]any
	key string
	l   []any
	i   int
}

// clear deletes the field from its map, or blanks the list item (a list keeps its shape).
func (f field) clear() {
	if f.m != nil {
		delete(f.m, f.key)
		return
	}
	f.l[f.i] = nil
}

// locate finds the field p in v; false when p leads to no field. Fields are located before any
// is cleared, as clearing a list item's key field would hide the item from the next path.
func locate(v any, p fieldpath.Path) (field, bool) {
	if len(p) == 0 {
		return field{}, false
	}
	pe, last := p[0], len(p) == 1
	if pe.FieldName != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return field{}, false
		}
		if _, ok := m[*pe.FieldName]; !ok {
			return field{}, false
		}
		if last {
			return field{m: m, key: *pe.FieldName}, true
		}
		return locate(m[*pe.FieldName], p[1:])
	}
	l, ok := v.([]any)
	if !ok {
		return field{}, false
	}
	for i, item := range l {
		if !matches(pe, i, item) {
			continue
		}
		if last {
			return field{l: l, i: i}, true
		}
		return locate(item, p[1:])
	}
	return field{}, false
}

// matches reports whether the list item at index i is the one pe selects.
func matches(pe fieldpath.PathElement, i int, item any) bool {
	switch {
	case pe.Index != nil:
		return *pe.Index == i
	case pe.Value != nil:
		return value.Equals(*pe.Value, value.NewValueInterface(item))
	}
	m, ok := item.(map[string]any)
	if !ok {
		return false
	}
	for _, f := range *pe.Key {
		got, ok := m[f.Name]
		if !ok || !value.Equals(f.Value, value.NewValueInterface(got)) {
			return false
		}
	}
	return true
}

// StaleError lists what changed in the cluster since a plan was made.
type StaleError struct {
	File    string
	Changes []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the plan %s is stale: the live state changed since it was made (%s); nothing was applied — make a new plan with `pyship plan --out %s` (and the flags this one was made with) and apply that", e.File, strings.Join(e.Changes, "; "), e.File)
}

// CheckLive compares the live state now with the plan's fingerprint, and names what changed
// and, where the managed fields tell, who changed it.
func (p *SavedPlan) CheckLive(file string, now map[string]LiveObject) error {
	var changes []string
	for k, was := range p.Live {
		is, ok := now[k]
		switch {
		case !ok || (was.Hash != "" && is.Hash == ""):
			changes = append(changes, k+" was deleted")
		case was.Hash == "" && is.Hash != "":
			changes = append(changes, k+" was created"+by(is.Managers, nil, is.Fields))
		case was.Hash != is.Hash:
			changes = append(changes, k+" changed"+by(is.Managers, was.Managers, is.Fields))
		}
	}
	for k, is := range now {
		if _, ok := p.Live[k]; !ok && is.Hash != "" {
			changes = append(changes, k+" appeared"+by(is.Managers, nil, is.Fields))
		}
	}
	if len(changes) == 0 {
		return nil
	}
	sort.Strings(changes)
	return &StaleError{File: file, Changes: changes}
}

// by names the managers whose fields changed since was (all of now when was is nil), with
// their fields: " by someone (Update): spec.replicas".
func by(now, was map[string]string, fields map[string][]string) string {
	var who []string
	for m, t := range now {
		if old, ok := was[m]; ok && old == t {
			continue
		}
		f := fields[m]
		if len(f) > 4 {
			f = append(f[:4:4], fmt.Sprintf("and %d more", len(f)-4))
		}
		who = append(who, m+": "+strings.Join(f, ", "))
	}
	if len(who) == 0 {
		return ""
	}
	sort.Strings(who)
	return " by " + strings.Join(who, "; ")
}
