package kube

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// monitoringCRD is a minimal stand-in for a Prometheus Operator CRD (schema left open).
func monitoringCRD(kind, plural string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + ".monitoring.coreos.com"},
		"spec": map[string]any{
			"group": "monitoring.coreos.com", "scope": "Namespaced",
			"names": map[string]any{"kind": kind, "plural": plural, "singular": plural[:len(plural)-1], "listKind": kind + "List"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
}

func TestMonitoringObjectsOnlyWhenTheirCRDsExist(t *testing.T) {
	monitoringObjects(t, newCluster(t))
}

// TestClusterTestsLeaveCRDsTheyFound runs the monitoring test on a cluster that already has its
// CRDs (as one with the Prometheus Operator has): they are neither replaced nor deleted.
func TestClusterTestsLeaveCRDsTheyFound(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, time.Minute)
	createMonitoringCRDs(t, c)
	t.Run("monitoring", func(t *testing.T) { monitoringObjects(t, c) })
	for _, name := range []string{"servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"} {
		u, err := c.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("the CRD %s that was there before the test: %v", name, err)
			continue
		}
		if u.GetDeletionTimestamp() != nil {
			t.Errorf("the test deleted the CRD %s it found", name)
		}
	}
}

// monitoringObjects checks that the ServiceMonitor and PrometheusRule are skipped without their
// CRDs and applied with them; it creates the CRDs the cluster lacks, and removes only those.
func monitoringObjects(t *testing.T, c *cluster) {
	ctx := ctxFor(t, time.Minute)
	b := c.render(t, appPlan("mon", "rolling"), Options{Image: image("a1"), Monitoring: true, AgentImage: testAgentImage})
	_, err := c.Dynamic.Resource(crdGVR).Get(ctx, "servicemonitors.monitoring.coreos.com", metav1.GetOptions{})
	if isNotFound(err) {
		res, err := c.Apply(ctx, b, ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(res.Skipped, "ServiceMonitor/mon") || !slices.Contains(res.Skipped, "PrometheusRule/mon") {
			t.Errorf("without the CRDs, skipped %v, want the ServiceMonitor and PrometheusRule", res.Skipped)
		}
	}
	createMonitoringCRDs(t, c)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c.Mapper.Reset()
		_, err1 := c.Mapper.RESTMapping(schema.GroupKind{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}, "v1")
		_, err2 := c.Mapper.RESTMapping(schema.GroupKind{Group: "monitoring.coreos.com", Kind: "PrometheusRule"}, "v1")
		return err1 == nil && err2 == nil, nil
	})
	if err != nil {
		t.Fatal("the monitoring CRDs were never served")
	}
	res, err := c.Apply(ctx, b, ApplyOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("with the CRDs, skipped %v", res.Skipped)
	}
	for _, r := range []string{"servicemonitors", "prometheusrules"} {
		gvr := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: r}
		u, err := c.Dynamic.Resource(gvr).Namespace(c.Namespace).Get(ctx, "mon", metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s/mon was not applied: %v", r, err)
			continue
		}
		if u.GetLabels()[LabelPartOf] != ApplySetID("mon", c.Namespace) {
			t.Errorf("%s/mon is not in the app's ApplySet: labels %v", r, u.GetLabels())
		}
	}
}

// createMonitoringCRDs creates the monitoring CRDs the cluster lacks and removes them after the
// test; CRDs the cluster has (a real Prometheus Operator's) are used as they are.
func createMonitoringCRDs(t *testing.T, c *cluster) {
	t.Helper()
	for kind, plural := range map[string]string{"ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules"} {
		crd := monitoringCRD(kind, plural)
		created, err := createCRD(ctxFor(t, 10*time.Second), c.Client, crd)
		if err != nil {
			t.Fatal(err)
		}
		if created {
			t.Cleanup(func() {
				_ = c.Dynamic.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{})
			})
		}
	}
}
