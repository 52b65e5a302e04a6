package kube

import (
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestCanaryReplicas(t *testing.T) {
	for _, tc := range []struct {
		total, weight  int
		router         bool
		stable, canary int
	}{
		{4, 25, false, 3, 1}, {4, 50, false, 2, 2}, {4, 100, false, 0, 4},
		{3, 10, false, 2, 1}, {1, 50, false, 1, 1}, {10, 33, false, 6, 4},
		{4, 25, true, 4, 1}, {4, 100, true, 4, 4}, {5, 1, true, 5, 1},
	} {
		s, c := canaryReplicas(tc.total, tc.weight, tc.router)
		if s != tc.stable || c != tc.canary {
			t.Errorf("canaryReplicas(%d, %d%%, router=%v) = %d:%d, want %d:%d", tc.total, tc.weight, tc.router, s, c, tc.stable, tc.canary)
		}
	}
}

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
