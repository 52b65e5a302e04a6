package kube

import (
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestDeploymentDone(t *testing.T) {
	three := int32(3)
	d := func(gen, obs int64, upd, rep, avail, ready int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		x := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three}}
		x.Generation, x.Status.ObservedGeneration = gen, obs
		x.Status.UpdatedReplicas, x.Status.Replicas, x.Status.AvailableReplicas, x.Status.ReadyReplicas = upd, rep, avail, ready
		x.Status.Conditions = conds
		return x
	}
	deadline := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}
	for name, tc := range map[string]struct {
		d    *appsv1.Deployment
		done bool
		fail bool
	}{
		"rolled out":        {d(2, 2, 3, 3, 3, 3), true, false},
		"spec not observed": {d(3, 2, 3, 3, 3, 3), false, false},
		"old pods remain":   {d(2, 2, 3, 4, 3, 3), false, false},
		"not yet available": {d(2, 2, 3, 3, 2, 3), false, false},
		"deadline exceeded": {d(2, 2, 1, 4, 3, 3, deadline), false, true},
	} {
		done, fail := deploymentDone(tc.d)
		if done != tc.done || (fail != "") != tc.fail {
			t.Errorf("%s: done=%v fail=%q, want done=%v fail=%v", name, done, fail, tc.done, tc.fail)
		}
	}
}

func TestDeployOptionsFor(t *testing.T) {
	p := webPlan("shop", "canary")
	p.Deploy.Canary = &plan.Canary{Steps: []int{10, 50, 100}, Pause: "30s"}
	o := DeployOptionsFor(p, nil)
	if o.Replicas != 3 || o.RollbackWindow != 5*time.Minute || o.Pause != 30*time.Second || len(o.Steps) != 3 || !o.Prune {
		t.Errorf("DeployOptionsFor = %+v", o)
	}
}
