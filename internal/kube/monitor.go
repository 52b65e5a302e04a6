package kube

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// optionalKinds are applied only when their CRDs exist on the cluster.
var optionalKinds = map[string]bool{"ServiceMonitor": true, "PrometheusRule": true}

// monitoring renders a ServiceMonitor scraping /metrics and a PrometheusRule alerting when the
// app has no ready replica (Prometheus Operator CRDs, applied only when they exist).
func (r *renderer) monitoring() []runtime.Object {
	if !r.o.Monitoring || !r.isWeb() {
		return nil
	}
	endpoints := []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s"}}
	if r.sidecar {
		// The sidecar's per-release series; the app's own /metrics is still scraped on
		// "http" (through the sidecar, which counts those scrapes too).
		endpoints = append(endpoints, map[string]any{"port": sidecarMetricsName, "path": "/metrics", "interval": "15s"})
	}
	sm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata":   map[string]any{"name": r.app, "namespace": r.o.Namespace},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": map[string]any{LabelName: r.app}},
			"endpoints": endpoints,
		},
	}}
	rule := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata":   map[string]any{"name": r.app, "namespace": r.o.Namespace},
		"spec": map[string]any{"groups": []any{map[string]any{
			"name": r.app,
			"rules": []any{map[string]any{
				"alert":       "PyshipAppDown",
				"expr":        `kube_deployment_status_replicas_available{namespace="` + r.o.Namespace + `",deployment=~"` + r.app + `.*"} == 0`,
				"for":         "5m",
				"labels":      map[string]any{"severity": "critical"},
				"annotations": map[string]any{"summary": r.app + " has no available replica"},
			}},
		}}},
	}}
	return []runtime.Object{sm, rule}
}
