package kube

import (
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	limit := 0.01
	p.Deploy.Canary = &plan.Canary{Steps: []int{10, 50, 100}, Pause: "30s", MaxBurnRate: 14.4, Availability: 99.9,
		Checks: []plan.CanaryCheck{{Name: "errors", Query: "up", Max: &limit}}}
	o := DeployOptionsFor(p, nil)
	if o.Replicas != 3 || o.RollbackWindow != 5*time.Minute || o.Pause != 30*time.Second || len(o.Steps) != 3 || !o.Prune {
		t.Errorf("DeployOptionsFor = %+v", o)
	}
	if len(o.Checks) != 1 || o.Checks[0].Name != "errors" || *o.Checks[0].Max != 0.01 || o.MaxBurnRate != 14.4 || o.Objective < 0.9989 || o.Objective > 0.9991 {
		t.Errorf("the canary's checks in DeployOptionsFor: %+v %v %v", o.Checks, o.MaxBurnRate, o.Objective)
	}
}

func TestTrafficSplit(t *testing.T) {
	for _, tc := range []struct {
		w                  map[string]int
		stable, canary     string
		weight             int
		heaviest, rendered string
	}{
		{map[string]int{"r1": 75, "r2": 25}, "r1", "r2", 25, "r1", "app-r1=75,app-r2=25"},
		{map[string]int{"r2": 100, "r1": 0}, "r2", "", 0, "r2", "app-r2=100"},
		{map[string]int{"r1": 100}, "r1", "", 0, "r1", "app-r1=100"},
		{map[string]int{}, "r2", "", 0, "", "app-r2=100"},
		{map[string]int{"r1": 50, "r2": 50}, "r1", "r2", 50, "r1", "app-r1=50,app-r2=50"},
	} {
		s, c, w := split(tc.w, "r2")
		if s != tc.stable || c != tc.canary || w != tc.weight {
			t.Errorf("split(%v) = %q %q %d, want %q %q %d", tc.w, s, c, w, tc.stable, tc.canary, tc.weight)
		}
		if h := heaviest(tc.w); h != tc.heaviest {
			t.Errorf("heaviest(%v) = %q, want %q", tc.w, h, tc.heaviest)
		}
		route := &unstructured.Unstructured{Object: map[string]any{"kind": "HTTPRoute", "spec": map[string]any{"rules": []any{map[string]any{}}}}}
		keepRouting(&Bundle{App: "app", Strategy: "canary", Objects: []*unstructured.Unstructured{route}}, "r2", tc.w)
		if got := routeWeights(route); got != tc.rendered {
			t.Errorf("keepRouting(%v) rendered %q, want %q", tc.w, got, tc.rendered)
		}
		if back := liveWeights(route, "app"); tc.weight > 0 && (back["r2"] != tc.weight || back["r1"] != 100-tc.weight) {
			t.Errorf("liveWeights read back %v from %q", back, tc.rendered)
		}
	}
}
