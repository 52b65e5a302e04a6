package kube

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/monitor/dashboard"
)

// optionalKinds are applied only when their CRDs exist on the cluster.
var optionalKinds = map[string]bool{"ServiceMonitor": true, "PrometheusRule": true}

// monitoring renders a ServiceMonitor scraping /metrics and a PrometheusRule (Prometheus
// Operator CRDs, applied only when they exist) with an alert when the app has no available
// replica and, for the [monitor] objectives, pyship's SLO recording rules and burn-rate alerts
// over the app's series in its namespace. [monitor] turns them on as [kubernetes] monitoring
// does.
func (r *renderer) monitoring() ([]runtime.Object, error) {
	if !(r.o.Monitoring || r.p.Monitor != nil) || !r.isWeb() {
		return nil, nil
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
	rules, err := monitor.Rules(r.app, r.p.Monitor, monitor.RuleOptions{Labels: map[string]string{"namespace": r.o.Namespace}})
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	rules.Groups = append(rules.Groups, monitor.RuleGroup{Name: r.app, Rules: []monitor.Rule{{
		Alert:       monitor.AlertAppDown,
		Expr:        `kube_deployment_status_replicas_available{namespace="` + r.o.Namespace + `",deployment=~"` + r.app + `.*"} == 0`,
		For:         "5m",
		Labels:      map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": r.app + " has no available replica"},
	}}})
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&rules)
	if err != nil {
		return nil, fmt.Errorf("render: the PrometheusRule of %s: %w", r.app, err)
	}
	rule := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata":   map[string]any{"name": r.app, "namespace": r.o.Namespace},
		"spec":       spec,
	}}
	return []runtime.Object{sm, rule}, nil
}

// DashboardLabel is the label Grafana's dashboard sidecar (the grafana Helm chart's and
// kube-prometheus-stack's default) looks for on ConfigMaps to load the dashboards they hold.
const DashboardLabel = "grafana_dashboard"

// dashboard renders a ConfigMap holding the app's Grafana dashboard, labelled for Grafana's
// sidecar, beside the ServiceMonitor and PrometheusRule.
func (r *renderer) dashboard() ([]runtime.Object, error) {
	if !(r.o.Monitoring || r.p.Monitor != nil) || !r.isWeb() {
		return nil, nil
	}
	b, err := dashboard.ForPlan(r.p)
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
