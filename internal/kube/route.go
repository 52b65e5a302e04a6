package kube

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/rollout"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rolloutBundle is b as the rollout applies it while serving release serving: the release
// Deployment leaves replicas to ScaleRelease, the blue-green Service keeps selecting the
// serving release, and the canary's HTTPRoute keeps sending all traffic to it. (The rolling
// strategy's Service and HTTPRoute reach the pods of every release: nothing to keep.)
func rolloutBundle(b *Bundle, serving string) *Bundle {
	out := *b
	out.Objects = nil
	for _, u := range b.Objects {
		u = u.DeepCopy()
		switch {
		case u.GetKind() == "Deployment":
			unstructured.RemoveNestedField(u.Object, "spec", "replicas")
		case u.GetKind() == "Service" && u.GetName() == b.App && b.Strategy == rollout.BlueGreen:
			_ = unstructured.SetNestedField(u.Object, serving, "spec", "selector", LabelRelease)
		case u.GetKind() == "HTTPRoute" && b.Strategy == rollout.Canary:
			setRouteBackends(u, b.App, serving, "", 0)
		}
		out.Objects = append(out.Objects, u)
	}
	return &out
}

// ForKubectl is b as tools without pyship's rollout engine apply it (`kubectl apply`, Flux,
// Argo CD; `pyship render` and `gitops push` write it): a rolling app's release Deployment
// becomes the one Deployment APP, selecting every pod of the app, whose own controller rolls
// each new release out in place (maxSurge 25%, maxUnavailable 0). A Deployment per release
// would stay running beside the next one under kubectl apply, or be pruned before the next
// one is ready by a GitOps controller. `pyship deploy` over it moves the app to release
// Deployments without dropping a request (adoptLegacy). A recreate app's Deployment APP has
// the Deployment's own strategy Recreate: every old pod is gone before a new one is created.
// Blue-green and canary need the engine: they are returned as they are.
func ForKubectl(b *Bundle) *Bundle {
	if b.Strategy != rollout.Rolling && b.Strategy != "" && b.Strategy != rollout.Recreate {
		return b
	}
	out := *b
	out.Objects = nil
	for _, u := range b.Objects {
		u = u.DeepCopy()
		switch u.GetKind() {
		case "Deployment":
			u.SetName(b.App)
			_ = unstructured.SetNestedStringMap(u.Object, map[string]string{LabelName: b.App}, "spec", "selector", "matchLabels")
		case "HorizontalPodAutoscaler":
			_ = unstructured.SetNestedField(u.Object, b.App, "spec", "scaleTargetRef", "name")
		}
		out.Objects = append(out.Objects, u)
	}
	sortObjects(out.Objects)
	return &out
}

func (b *Bundle) find(kind, name string) *unstructured.Unstructured {
	for _, u := range b.Objects {
		if u.GetKind() == kind && (name == "" || u.GetName() == name) {
			return u
		}
	}
	return nil
}

// setRouteBackends points every rule of an HTTPRoute at stable (100-weight) and canary (weight).
func setRouteBackends(u *unstructured.Unstructured, app, stable, canary string, weight int) {
	ref := func(release string, w int) any {
		return map[string]any{"name": ReleaseServiceName(app, release), "port": int64(80), "weight": int64(w)}
	}
	refs := []any{ref(stable, 100-weight)}
	if canary != "" {
		refs = append(refs, ref(canary, weight))
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	for i := range rules {
		if r, ok := rules[i].(map[string]any); ok {
			r["backendRefs"] = refs
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
}

// releaseService is the per-release Service an HTTPRoute sends a weight of the traffic to.
func releaseService(b *Bundle, release string) *unstructured.Unstructured {
	base := b.find("Service", b.App)
	if base == nil {
		return nil
	}
	u := base.DeepCopy()
	u.SetName(ReleaseServiceName(b.App, release))
	labels := u.GetLabels()
	labels[LabelRelease] = release
	u.SetLabels(labels)
	_ = unstructured.SetNestedStringMap(u.Object, map[string]string{LabelName: b.App, LabelRelease: release}, "spec", "selector")
	return u
}

// SetTraffic sends the app's traffic to stable, or weight percent of it to canary: the blue-green
// Service selector, or the canary HTTPRoute's backend weights. With neither (rolling, canary
// by replica ratio) the replica counts alone split the traffic and there is nothing to do.
// force takes the fields over from another field manager.
func (c *Client) SetTraffic(ctx context.Context, b *Bundle, stable, canary string, weight int, force bool) error {
	if b.Strategy == rollout.BlueGreen {
		svc := b.find("Service", b.App)
		if svc == nil {
			return fmt.Errorf("blue-green needs a Service, but %s is a worker without a port; use the rolling strategy", b.App)
		}
		svc = svc.DeepCopy()
		_ = unstructured.SetNestedField(svc.Object, stable, "spec", "selector", LabelRelease)
		_, err := c.ApplyObject(ctx, svc, force, false)
		return err
	}
	route := b.find("HTTPRoute", "")
	if route == nil || b.Strategy != rollout.Canary {
		return nil
	}
	for _, rel := range []string{stable, canary} {
		if rel == "" {
			continue
		}
		if svc := releaseService(b, rel); svc != nil {
			if _, err := c.ApplyObject(ctx, svc, force, false); err != nil {
				return err
			}
		}
	}
	route = route.DeepCopy()
	setRouteBackends(route, b.App, stable, canary, weight)
	_, err := c.ApplyObject(ctx, route, force, false)
	return err
}

var httpRouteGVR = gvk("gateway.networking.k8s.io", "v1", "HTTPRoute").GroupVersion().WithResource("httproutes")

// pausedTarget is what the app's HorizontalPodAutoscaler aims at while a rollout over a
// serving release runs: no Deployment, so it scales nothing. The engine sets each release's replicas
// itself, and an autoscaler enforcing its minReplicas on either release would undo the steps
// (a replica-weighted canary pushed to full size, a stable release scaled back up, a rolling
// update's drained replica started again).
func pausedTarget(app string) string { return app + "-paused-during-rollout" }

// pauseAutoscaler aims b's autoscaler at pausedTarget.
func pauseAutoscaler(b *Bundle, progress Progress) {
	if hpa := b.find("HorizontalPodAutoscaler", ""); hpa != nil {
		_ = unstructured.SetNestedField(hpa.Object, pausedTarget(b.App), "spec", "scaleTargetRef", "name")
		progress.printf("autoscaler %s paused during the rollout", hpa.GetName())
	}
}

// resumeAutoscaler applies the app's HorizontalPodAutoscaler aimed at release, the one serving
// once a rollout has ended (or been rolled back).
func (c *Client) resumeAutoscaler(ctx context.Context, b *Bundle, release string, force bool, progress Progress) error {
	hpa := b.find("HorizontalPodAutoscaler", "")
	if hpa == nil || release == "" {
		return nil
	}
	u := hpa.DeepCopy()
	_ = unstructured.SetNestedField(u.Object, DeploymentName(b.App, release), "spec", "scaleTargetRef", "name")
	if _, err := c.ApplyObject(ctx, u, force, false); err != nil {
		return err
	}
	progress.printf("autoscaler %s scales release %s", hpa.GetName(), release)
	return nil
}

// pauseLiveAutoscaler applies b's autoscaler paused, for a rollout that applies nothing else
// of the app (a rolling rollback).
func (c *Client) pauseLiveAutoscaler(ctx context.Context, b *Bundle, force bool, progress Progress) error {
	hpa := b.find("HorizontalPodAutoscaler", "")
	if hpa == nil {
		return nil
	}
	paused := &Bundle{App: b.App, Objects: []*unstructured.Unstructured{hpa.DeepCopy()}}
	pauseAutoscaler(paused, progress)
	_, err := c.ApplyObject(ctx, paused.Objects[0], force, false)
	return err
}
