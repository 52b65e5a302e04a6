package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Progress receives one line per step; library code reports through it and never prints.
type Progress func(format string, args ...any)

func (p Progress) printf(format string, args ...any) {
	if p != nil {
		p(format, args...)
	}
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Prune deletes objects of the app that pyship applied before and no longer renders.
	Prune bool
	// Force takes over fields owned by other managers instead of failing with ErrConflict.
	Force bool
	// DryRun asks the server to validate and default without persisting.
	DryRun   bool
	Progress Progress
}

// ApplyResult lists what Apply did, as "Kind/name".
type ApplyResult struct {
	Applied, Pruned, Skipped []string
}

// resourceFor maps an object's kind to its REST resource.
func (c *Client) resourceFor(u *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := u.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil && meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		m, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	return m, err
}

func (c *Client) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(m.Resource).Namespace(namespace)
	}
	return c.Dynamic.Resource(m.Resource)
}

// ApplyObject server-side applies one object with field manager pyship.
func (c *Client) ApplyObject(ctx context.Context, u *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	m, err := c.resourceFor(u)
	if err != nil {
		return nil, fmt.Errorf("applying %s %s: the cluster does not serve %s: %w", u.GetKind(), u.GetName(), u.GroupVersionKind().GroupVersion(), err)
	}
	ns := u.GetNamespace()
	if m.Scope.Name() == meta.RESTScopeNameNamespace && ns == "" {
		ns = c.Namespace
		u.SetNamespace(ns)
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := c.resource(m, ns).Apply(ctx, u.GetName(), u, opts)
	if err != nil {
		return nil, objectError("apply", u, m.Resource.Resource, ns, err)
	}
	return out, nil
}

// Apply server-side applies the bundle in order, records the app's inventory in an ApplySet
// parent Secret and, with Prune, deletes what the app no longer renders.
func (c *Client) Apply(ctx context.Context, b *Bundle, o ApplyOptions) (*ApplyResult, error) {
	res := &ApplyResult{}
	kinds := map[string]bool{}
	var toApply []*unstructured.Unstructured
	for _, u := range b.Objects {
		if optionalKinds[u.GetKind()] {
			if _, err := c.resourceFor(u); meta.IsNoMatchError(err) {
				res.Skipped = append(res.Skipped, u.GetKind()+"/"+u.GetName())
				o.Progress.printf("skipping %s/%s: the cluster has no %s CRD", u.GetKind(), u.GetName(), u.GetKind())
				continue
			}
		}
		gvk := u.GroupVersionKind()
		kinds[groupKind(gvk.GroupKind())] = true
		toApply = append(toApply, u)
	}
	prev, err := c.inventoryKinds(ctx, b)
	if err != nil {
		return nil, err
	}
	if !o.DryRun {
		// The parent lists every kind that may hold members before anything is applied, so an
		// interrupted apply can still prune them on the next run.
		if err := c.writeInventory(ctx, b, union(prev, kinds), o.Force); err != nil {
			return nil, err
		}
	}
	for _, u := range toApply {
		if _, err := c.ApplyObject(ctx, u.DeepCopy(), o.Force, o.DryRun); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, u.GetKind()+"/"+u.GetName())
		o.Progress.printf("applied %s/%s", u.GetKind(), u.GetName())
	}
	if !o.Prune || o.DryRun {
		return res, nil
	}
	pruned, err := c.prune(ctx, b, union(prev, kinds), o.Progress)
	res.Pruned = pruned
	if err != nil {
		return res, err
	}
	return res, c.writeInventory(ctx, b, kinds, o.Force)
}

func groupKind(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

func union(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func (c *Client) inventoryKinds(ctx context.Context, b *Bundle) (map[string]bool, error) {
	s, err := c.Core.CoreV1().Secrets(b.Namespace).Get(ctx, ApplySetParentName(b.App), metav1.GetOptions{})
	if err != nil {
		if isNotFound(err) {
			return map[string]bool{}, nil
		}
		return nil, objectError("get", secretObject(b), "secrets", b.Namespace, err)
	}
	out := map[string]bool{}
	for _, k := range strings.Split(s.Annotations[ApplySetGroupKindsAnno], ",") {
		if k != "" {
			out[k] = true
		}
	}
	return out, nil
}

func secretObject(b *Bundle) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Secret")
	u.SetName(ApplySetParentName(b.App))
	u.SetNamespace(b.Namespace)
	return u
}

// writeInventory applies the ApplySet parent Secret listing the kinds the app's objects have.
func (c *Client) writeInventory(ctx context.Context, b *Bundle, kinds map[string]bool, force bool) error {
	list := make([]string, 0, len(kinds))
	for k := range kinds {
		list = append(list, k)
	}
	sort.Strings(list)
	u := secretObject(b)
	u.SetLabels(map[string]string{ApplySetParentIDLabel: ApplySetID(b.App, b.Namespace), LabelManagedBy: ManagedBy, LabelApp: b.App})
	u.SetAnnotations(map[string]string{ApplySetToolingAnno: ApplySetTooling, ApplySetGroupKindsAnno: strings.Join(list, ",")})
	u.Object["type"] = string(corev1.SecretTypeOpaque)
	_, err := c.ApplyObject(ctx, u, force, false)
	return err
}

// prune deletes the app's objects (by ApplySet label) of the given kinds that b does not
// render. Release Deployments and Services are left to the rollout, persistent volume claims
// are kept.
func (c *Client) prune(ctx context.Context, b *Bundle, kinds map[string]bool, progress Progress) ([]string, error) {
	want := map[string]bool{}
	for _, u := range b.Objects {
		want[u.GetKind()+"/"+u.GetName()] = true
	}
	sel := LabelPartOf + "=" + ApplySetID(b.App, b.Namespace)
	var pruned []string
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		gk := schema.ParseGroupKind(k)
		m, err := c.mappingFor(k)
		if meta.IsNoMatchError(err) {
			continue // the CRD is gone, and so are its objects
		}
		if err != nil {
			return pruned, fmt.Errorf("pruning %s: %w", k, err)
		}
		ri := c.resource(m, b.Namespace)
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return pruned, objectError("list", &unstructured.Unstructured{Object: map[string]any{"kind": gk.Kind}}, m.Resource.Resource, b.Namespace, err)
		}
		for i := range list.Items {
			it := &list.Items[i]
			id := gk.Kind + "/" + it.GetName()
			if want[id] || it.GetLabels()[LabelRelease] != "" || it.GetAnnotations()[AnnotationKeep] == "true" {
				continue
			}
			if err := ri.Delete(ctx, it.GetName(), metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationBackground)}); err != nil && !isNotFound(err) {
				return pruned, objectError("delete", it, m.Resource.Resource, b.Namespace, err)
			}
			pruned = append(pruned, id)
			progress.printf("pruned %s", id)
		}
	}
	return pruned, nil
}

// mappingFor maps "Kind.group" (as in the ApplySet annotation) to its REST resource.
func (c *Client) mappingFor(groupKind string) (*meta.RESTMapping, error) {
	return c.Mapper.RESTMapping(schema.ParseGroupKind(groupKind))
}
