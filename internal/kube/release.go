package kube

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// ReleaseHealth is what the cluster says about a release's pods.
type ReleaseHealth struct {
	Total    int   `json:"total"`
	Ready    int   `json:"ready"`
	Restarts int32 `json:"restarts"`
}

// Healthy is true when every pod is ready and none restarted.
func (h ReleaseHealth) Healthy() bool { return h.Total > 0 && h.Ready == h.Total && h.Restarts == 0 }

func releaseSelector(app, release string) string {
	return LabelName + "=" + app + "," + LabelRelease + "=" + release
}

// ScaleRelease sets the replicas of a release's Deployment (field manager pyship-rollout; the
// applied Deployment of blue-green and canary releases leaves replicas to it).
func (c *Client) ScaleRelease(ctx context.Context, app, release string, replicas int) error {
	name := app + "-" + release
	raw, _ := json.Marshal(map[string]any{"spec": map[string]any{"replicas": replicas}})
	_, err := c.Core.AppsV1().Deployments(c.Namespace).Patch(ctx, name, types.MergePatchType, raw, metav1.PatchOptions{FieldManager: stateManager})
	if err != nil {
		u := &unstructured.Unstructured{Object: map[string]any{"kind": "Deployment", "metadata": map[string]any{"name": name}}}
		return objectError("scale", u, "deployments", c.Namespace, err)
	}
	return nil
}

// WaitRelease waits until the release's Deployment has replicas (as just set by ScaleRelease)
// rolled out and available.
func (c *Client) WaitRelease(ctx context.Context, app, release string, replicas int, progress Progress) error {
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, app+"-"+release, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("waiting for release %s of %s: %w", release, app, err)
	}
	return c.waitDeployment(ctx, app+"-"+release, waitFor{generation: d.Generation, replicas: int32(replicas)}, progress)
}

// Health reads the readiness and restarts of a release's pods.
func (c *Client) Health(ctx context.Context, app, release string) (ReleaseHealth, error) {
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: releaseSelector(app, release)})
	if err != nil {
		return ReleaseHealth{}, fmt.Errorf("reading the pods of release %s of %s: %w", release, app, err)
	}
	var h ReleaseHealth
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		h.Total++
		if podReady(p) {
			h.Ready++
		}
		for _, cs := range containerStatuses(p) {
			h.Restarts += cs.RestartCount
		}
	}
	return h, nil
}

// DeleteRelease removes a release's Deployment and its per-release Service.
func (c *Client) DeleteRelease(ctx context.Context, app, release string) error {
	bg := metav1.DeletePropagationBackground
	err := c.Core.AppsV1().Deployments(c.Namespace).Delete(ctx, app+"-"+release, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting release %s of %s: %w", release, app, err)
	}
	err = c.Core.CoreV1().Services(c.Namespace).Delete(ctx, ReleaseServiceName(app, release), metav1.DeleteOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting the Service of release %s of %s: %w", release, app, err)
	}
	return nil
}

// releaseExists reports whether the release's Deployment is on the cluster.
func (c *Client) releaseExists(ctx context.Context, app, release string) (bool, error) {
	if release == "" {
		return false, nil
	}
	_, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, app+"-"+release, metav1.GetOptions{})
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
