package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/notify"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Drift is a change to one of the app's objects made out of band: fields another field manager
// than pyship's owns (kubectl scale, kubectl set env, kubectl edit, another tool's apply).
type Drift struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Manager string `json:"manager"`
	// Operation is Apply or Update; Subresource e.g. "scale" for kubectl scale.
	Operation   string `json:"operation"`
	Subresource string `json:"subresource,omitempty"`
	// Fields are the paths the manager owns, e.g. spec.replicas or
	// spec.template.spec.containers[name=web].env[name=LOG].value.
	Fields []string `json:"fields"`
}

// systemManagers write fields of pyship's objects as part of running them, not drift.
var systemManagers = map[string]bool{"kube-controller-manager": true, "kube-scheduler": true, "kubelet": true, "kube-apiserver": true}

// DetectDrift lists the fields of the app's live objects (those its inventory lists) that a
// field manager other than pyship's own and the cluster's controllers owns. Status, and the
// replicas an autoscaler of the app sets, are not drift.
func DetectDrift(ctx context.Context, c *kube.Client, app string) ([]Drift, error) {
	objs, err := appObjects(ctx, c, app)
	if err != nil {
		return nil, err
	}
	autoscaled := map[string]bool{}
	for _, o := range objs {
		if o.GetKind() == "HorizontalPodAutoscaler" {
			target, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name")
			autoscaled[target] = true
		}
	}
	var out []Drift
	for _, o := range objs {
		for _, mf := range o.GetManagedFields() {
			if strings.HasPrefix(mf.Manager, "pyship") || systemManagers[mf.Manager] || mf.Subresource == "status" || mf.FieldsV1 == nil {
				continue
			}
			var tree map[string]any
			if err := json.Unmarshal(mf.FieldsV1.Raw, &tree); err != nil {
				return nil, fmt.Errorf("reading the managed fields of %s %s: %w", o.GetKind(), o.GetName(), err)
			}
			var fields []string
			for _, f := range fieldPaths("", tree) {
				if o.GetKind() == "Deployment" && autoscaled[o.GetName()] && f == "spec.replicas" {
					continue
				}
				fields = append(fields, f)
			}
			if len(fields) == 0 {
				continue
			}
			sort.Strings(fields)
			out = append(out, Drift{Kind: o.GetKind(), Name: o.GetName(), Manager: mf.Manager, Operation: string(mf.Operation), Subresource: mf.Subresource, Fields: fields})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind+"/"+out[i].Name != out[j].Kind+"/"+out[j].Name {
			return out[i].Kind+"/"+out[i].Name < out[j].Kind+"/"+out[j].Name
		}
		return out[i].Manager < out[j].Manager
	})
	return out, nil
}

// fieldPaths turns a managedFields FieldsV1 tree into the paths of its leaves.
func fieldPaths(prefix string, tree map[string]any) []string {
	var out []string
	for k, v := range tree {
		if k == "." {
			continue
		}
		var p string
		switch {
		case strings.HasPrefix(k, "f:"):
			p = join(prefix, k[2:])
		case strings.HasPrefix(k, "k:"):
			var key map[string]any
			_ = json.Unmarshal([]byte(k[2:]), &key)
			var parts []string
			for kk, vv := range key {
				parts = append(parts, fmt.Sprintf("%s=%v", kk, vv))
			}
			sort.Strings(parts)
			p = prefix + "[" + strings.Join(parts, ",") + "]"
		case strings.HasPrefix(k, "v:"):
			p = prefix + "[" + k[2:] + "]"
		case strings.HasPrefix(k, "i:"):
			p = prefix + "[" + k[2:] + "]"
		default:
			p = join(prefix, k)
		}
		sub, _ := v.(map[string]any)
		children := 0
		for ck := range sub {
			if ck != "." {
				children++
			}
		}
		if children == 0 {
			out = append(out, p)
			continue
		}
		out = append(out, fieldPaths(p, sub)...)
	}
	return out
}

// appObjects lists the app's live objects: every kind its inventory Secret names, by the
// app's ApplySet label.
func appObjects(ctx context.Context, c *kube.Client, app string) ([]unstructured.Unstructured, error) {
	inv, objs, err := inventory(ctx, c, c.Namespace, app)
	if err == nil && inv == nil {
		return nil, fmt.Errorf("%s is not deployed in namespace %s (no inventory Secret %s): deploy it with pyship first", app, c.Namespace, kube.ApplySetParentName(app))
	}
	return objs, err
}

// inventory reads the app's inventory Secret in namespace (nil when there is none) and lists
// the objects of every kind it names that carry the app's ApplySet label.
func inventory(ctx context.Context, c *kube.Client, namespace, app string) (*corev1.Secret, []unstructured.Unstructured, error) {
	inv, err := c.Core.CoreV1().Secrets(namespace).Get(ctx, kube.ApplySetParentName(app), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the inventory of %s: %w", app, err)
	}
	sel := kube.LabelPartOf + "=" + kube.ApplySetID(app, namespace)
	var out []unstructured.Unstructured
	for _, k := range strings.Split(inv.Annotations[kube.ApplySetGroupKindsAnno], ",") {
		if k == "" {
			continue
		}
		m, err := c.Mapper.RESTMapping(schema.ParseGroupKind(k))
		if err != nil {
			continue // a kind the cluster no longer serves
		}
		list, err := c.Dynamic.Resource(m.Resource).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, nil, fmt.Errorf("listing the app's %s: %w", m.Resource.Resource, err)
		}
		out = append(out, list.Items...)
	}
	return inv, out, nil
}

// DriftReport is what `pyship drift` found for an app on its target.
type DriftReport struct {
	// Where the app runs, for messages: "in namespace NS", "on this machine".
	Where  string
	Drifts []Drift
}

// Notify posts the report to a Slack-compatible webhook, when it found something.
func (r *DriftReport) Notify(ctx context.Context, url, app string) error {
	if len(r.Drifts) == 0 {
		return nil
	}
	var fields [][2]string
	for _, d := range r.Drifts {
		fields = append(fields, [2]string{d.Kind + "/" + d.Name + " by " + d.Manager, strings.Join(d.Fields, ", ")})
	}
	return notify.Webhook(ctx, url, fmt.Sprintf("%s %s drifted: %d change(s) made outside pyship", app, r.Where, len(r.Drifts)), fields)
}
