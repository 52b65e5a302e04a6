package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
)

// adoptLegacy moves an app that an earlier pyship rolled out with the rolling strategy (one
// Deployment APP updated in place, its last good and previous Deployments saved in the state),
// or that kubectl or a GitOps tool applied as `pyship render` writes it (ForKubectl), to
// release Deployments, without dropping a request: the active release is created again as
// APP-RELEASE from the saved Deployment with as many replicas, and only once they are all
// ready is APP scaled away (its pods drain through their preStop hook while the Service sends
// new requests to the release's) and deleted. The previous release becomes APP-PREVIOUS with
// no replica, so `pyship rollback` still reaches it. It does nothing for an app without APP,
// and it is safe to run again after a crash.
func (c *Client) adoptLegacy(ctx context.Context, app string, st *State, o DeployOptions) error {
	api := c.Core.AppsV1().Deployments(c.Namespace)
	old, err := api.Get(ctx, app, metav1.GetOptions{})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking for the Deployment %s of an earlier pyship: %w", app, err)
	}
	if old.Labels[LabelName] != app || old.Labels[LabelManagedBy] != ManagedBy {
		return nil // not the rolling Deployment of an earlier pyship
	}
	if st.Active == "" && st.Phase == PhaseNone {
		// Applied as `pyship render` writes it (kubectl, a GitOps tool), never deployed by
		// pyship: it serves its release.
		st.Active = old.Spec.Template.Labels[LabelRelease]
	}
	active := st.Active
	if old.DeletionTimestamp == nil { // else a migration was cut short while APP went
		if err := c.takeOver(ctx, app, old, st, o.Progress); err != nil {
			return err
		}
		fg := metav1.DeletePropagationForeground
		if err := api.Delete(ctx, app, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting the Deployment %s of an earlier pyship: %w", app, err)
		}
	}
	// Foreground: the Deployment goes once its ReplicaSets and their pods have, so no pod of it
	// is left for the engine to count as a replica of the active release.
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := api.Get(ctx, app, metav1.GetOptions{})
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the Deployment %s of an earlier pyship to go: %w", app, err)
	}
	if ok, _ := c.releaseExists(ctx, app, st.Previous); !ok {
		st.Previous = ""
	}
	st.LastGoodJSON, st.PreviousJSON = nil, nil
	if st.Candidate != "" && st.Candidate != active { // an unfinished rolling update of APP: gone with it
		st.Failed, st.Candidate = st.Candidate, ""
	}
	return c.writeState(ctx, app, st)
}

// takeOver creates the releases of the state of an earlier pyship as Deployments, the active
// one with the replicas of old, and waits until they are all ready.
func (c *Client) takeOver(ctx context.Context, app string, old *appsv1.Deployment, st *State, progress Progress) error {
	active := st.Active
	if active == "" {
		progress.printf("deleting the Deployment %s of an earlier pyship: it never served", app)
		return nil
	}
	saved := st.LastGoodJSON
	if len(saved) == 0 {
		var err error
		if saved, err = liveDeploymentJSON(old); err != nil {
			return err
		}
	}
	n := 1
	if old.Spec.Replicas != nil {
		n = max(int(*old.Spec.Replicas), 1)
	}
	progress.printf("moving %s from the Deployment %s of an earlier pyship to one Deployment per release: %s takes over with %d replica(s)", app, app, DeploymentName(app, active), n)
	if err := c.createRelease(ctx, app, active, saved, n, progress); err != nil {
		return fmt.Errorf("moving release %s of %s to its own Deployment: %w", active, app, err)
	}
	if err := c.WaitRelease(ctx, app, active, n, progress); err != nil {
		return fmt.Errorf("moving release %s of %s to its own Deployment (%s still serves): %w", active, app, app, err)
	}
	if st.Previous != "" && st.Previous != active && len(st.PreviousJSON) > 0 {
		if err := c.createRelease(ctx, app, st.Previous, st.PreviousJSON, 0, progress); err != nil {
			return fmt.Errorf("keeping the previous release %s of %s for rollback: %w", st.Previous, app, err)
		}
	}
	progress.printf("retiring the Deployment %s: its pods drain while %s serves", app, DeploymentName(app, active))
	return nil
}

// createRelease applies the Deployment saved (as JSON) of release as APP-RELEASE, selecting
// the release's pods only, with no replica, then scales it to n.
func (c *Client) createRelease(ctx context.Context, app, release string, saved []byte, n int, progress Progress) error {
	src := map[string]any{}
	if err := json.Unmarshal(saved, &src); err != nil {
		return fmt.Errorf("reading the saved Deployment: %w", err)
	}
	spec, _, _ := unstructured.NestedMap(src, "spec")
	if spec == nil {
		return fmt.Errorf("the saved Deployment has no spec")
	}
	spec["replicas"] = int64(0) // ScaleRelease's from here on, as for a release the engine starts
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "spec": spec}}
	u.SetName(DeploymentName(app, release))
	u.SetNamespace(c.Namespace)
	labels, _, _ := unstructured.NestedStringMap(src, "metadata", "labels")
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelName], labels[LabelRelease] = app, release
	u.SetLabels(labels)
	ann, _, _ := unstructured.NestedStringMap(src, "metadata", "annotations")
	for k := range ann {
		if strings.Contains(k, "kubernetes.io/") {
			delete(ann, k) // the controller's revision and kubectl's notes stay with the old object
		}
	}
	u.SetAnnotations(ann)
	_ = unstructured.SetNestedStringMap(u.Object, map[string]string{LabelName: app, LabelRelease: release}, "spec", "selector", "matchLabels")
	_ = unstructured.SetNestedField(u.Object, release, "spec", "template", "metadata", "labels", LabelRelease)
	if ok, err := c.releaseExists(ctx, app, release); err != nil {
		return err
	} else if !ok { // else created by a migration cut short: only its replicas are set again
		if _, err := c.ApplyObject(ctx, u, true, false); err != nil {
			return err
		}
		progress.printf("applied Deployment/%s", u.GetName())
	}
	return c.ScaleRelease(ctx, app, release, n)
}

// liveDeploymentJSON is the live Deployment d as createRelease reads a saved one.
func liveDeploymentJSON(d *appsv1.Deployment) ([]byte, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return nil, fmt.Errorf("reading the Deployment %s: %w", d.Name, err)
	}
	unstructured.RemoveNestedField(m, "spec", "template", "metadata", "creationTimestamp")
	return json.Marshal(map[string]any{"metadata": map[string]any{"labels": d.Labels, "annotations": d.Annotations}, "spec": m["spec"]})
}
