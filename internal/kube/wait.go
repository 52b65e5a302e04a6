package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// RolloutError is a Deployment that did not become available, with what was found wrong.
type RolloutError struct {
	Deployment string
	Reason     string
	// Diagnosis lists the causes found on the pods: events, image pull errors, crash logs,
	// scheduling failures, failing probes.
	Diagnosis []string
}

func (e *RolloutError) Error() string {
	msg := fmt.Sprintf("deployment %s did not become available: %s", e.Deployment, e.Reason)
	for _, d := range e.Diagnosis {
		msg += "\n  " + d
	}
	return msg
}

// deploymentDone reports whether d's current spec is fully rolled out and available, and a
// terminal failure reason when the controller gave up.
func deploymentDone(d *appsv1.Deployment) (bool, string) {
	if d.Generation > d.Status.ObservedGeneration {
		return false, ""
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return false, "progress deadline exceeded: " + c.Message
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want && s.ReadyReplicas == want, ""
}

// waitFor is what a wait needs to see before it trusts a Deployment's status.
type waitFor struct {
	generation int64
	// replicas is the spec.replicas just set, -1 for any.
	replicas int32
}

func (c *Client) waitDeployment(ctx context.Context, name string, wf waitFor, progress Progress) error {
	api := c.Core.AppsV1().Deployments(c.Namespace)
	lw := byName(ctx, name, api.List, api.Watch)
	var last string
	var failure string
	var final *appsv1.Deployment
	_, err := watchtools.UntilWithSync(ctx, lw, &appsv1.Deployment{}, nil, func(ev watch.Event) (bool, error) {
		d, ok := ev.Object.(*appsv1.Deployment)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("deployment %s/%s was deleted while waiting for it", c.Namespace, name)
		}
		final = d
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		line := fmt.Sprintf("%s: %d/%d updated, %d ready, %d available, %d total", name,
			d.Status.UpdatedReplicas, want, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.Replicas)
		if line != last {
			progress.printf("%s", line)
			last = line
		}
		if d.Generation < wf.generation || (wf.replicas >= 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas != wf.replicas)) {
			return false, nil // an older version of the object than the one just written
		}
		done, fail := deploymentDone(d)
		if fail != "" {
			failure = fail
			return true, nil
		}
		return done, nil
	})
	if err == nil && failure == "" {
		return nil
	}
	re := &RolloutError{Deployment: c.Namespace + "/" + name, Reason: failure}
	if re.Reason == "" {
		if errors.Is(err, context.DeadlineExceeded) || wait.Interrupted(err) || ctx.Err() != nil {
			re.Reason = "timed out waiting for it"
		} else {
			re.Reason = err.Error()
		}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if final != nil && final.Spec.Selector != nil {
		re.Diagnosis = c.Diagnose(dctx, metav1.FormatLabelSelector(final.Spec.Selector))
	}
	return re
}

// byName lists and watches the one object called name through an API's List and Watch.
func byName[L runtime.Object](ctx context.Context, name string, list func(context.Context, metav1.ListOptions) (L, error), watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	return &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			// The reflector's first list asks for resourceVersion "0", which the API server may
			// answer from its watch cache, before a write this client has just made (abort
			// then read its own request as already taken). "" reads the object as it is.
			if o.ResourceVersion == "0" {
				o.ResourceVersion = ""
			}
			return list(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return watchFn(ctx, o)
		},
	}
}
