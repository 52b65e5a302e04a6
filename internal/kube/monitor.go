package kube

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pyship/pyship/internal/monitor/dashboard"
)

// optionalKinds are applied only when their CRDs exist on the cluster.
var optionalKinds = map[string]bool{"ServiceMonitor": true, "PrometheusRule": true}

// monitoring renders a ServiceMonitor scraping /metrics and a PrometheusRule alerting when the
// app has no ready replica (Prometheus Operator CRDs, applied only when they exist).
func (r *renderer) monitoring() []runtime.Object {
	if !r.o.Monitoring || !r.isWeb() {
		return nil
	}
	sm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata":   map[string]any{"name": r.app, "namespace": r.o.Namespace},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": map[string]any{LabelName: r.app}},
			"endpoints": []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s"}},
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

// DashboardLabel is the label Grafana's dashboard sidecar (the grafana Helm chart's and
// kube-prometheus-stack's default) looks for on ConfigMaps to load the dashboards they hold.
const DashboardLabel = "grafana_dashboard"

// dashboard renders a ConfigMap holding the app's Grafana dashboard, labelled for Grafana's
// sidecar, beside the ServiceMonitor and PrometheusRule.
func (r *renderer) dashboard() ([]runtime.Object, error) {
	if !r.o.Monitoring || !r.isWeb() {
		return nil, nil
	}
	b, err := dashboard.JSON(dashboard.Options{App: r.app})
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(r.app + "-dashboard"),
		Data:       map[string]string{"pyship-" + r.app + ".json": string(b)},
	}
	cm.Labels = map[string]string{DashboardLabel: "1"}
	return []runtime.Object{cm}, nil
}
