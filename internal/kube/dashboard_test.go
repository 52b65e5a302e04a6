package kube

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyship/pyship/internal/monitor/dashboard"
	"github.com/pyship/pyship/internal/plan"
)

// TestDashboardConfigMap: with monitoring on, a web app's bundle holds its Grafana dashboard in
// a ConfigMap labelled for Grafana's sidecar; without monitoring, or for a worker, none.
func TestDashboardConfigMap(t *testing.T) {
	find := func(t *testing.T, opts Options, kind string) map[string]string {
		t.Helper()
		p := webPlan("shop", "canary")
		if kind == "worker" {
			p.Run.Kind, p.Health = "worker", plan.Health{Type: "process"}
		}
		b, err := Render(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Objects {
			if o.GetKind() == "ConfigMap" && o.GetName() == "shop-dashboard" {
				if o.GetLabels()[DashboardLabel] != "1" || o.GetLabels()[LabelPartOf] == "" {
					t.Errorf("the dashboard ConfigMap's labels are %v, want %s=1 and the app's ApplySet", o.GetLabels(), DashboardLabel)
				}
				data := map[string]string{}
				d, _ := o.Object["data"].(map[string]any)
				for k, v := range d {
					data[k], _ = v.(string)
				}
				return data
			}
		}
		return nil
	}
	data := find(t, Options{Namespace: "shop", Image: testImage, AgentImage: testAgentImage, Monitoring: true}, "web")
	var d struct {
		UID    string `json:"uid"`
		Panels []any  `json:"panels"`
	}
	if err := json.Unmarshal([]byte(data["pyship-shop.json"]), &d); err != nil {
		t.Fatalf("the ConfigMap's pyship-shop.json (keys %v): %v", len(data), err)
	}
	if d.UID != dashboard.UID("shop") || len(d.Panels) == 0 {
		t.Errorf("the dashboard has uid %q and %d panels", d.UID, len(d.Panels))
	}
	if data := find(t, Options{Namespace: "shop", Image: testImage}, "web"); data != nil {
		t.Error("a dashboard ConfigMap without [kubernetes] monitoring")
	}
	if data := find(t, Options{Namespace: "shop", Image: testImage, AgentImage: testAgentImage, Monitoring: true}, "worker"); data != nil {
		t.Error("a dashboard ConfigMap for a worker, which serves no requests")
	}
}

// TestDashboardConfigMapApplied: the API server takes the dashboard ConfigMap with the app,
// even where the Prometheus Operator's CRDs are missing, in the app's ApplySet.
func TestDashboardConfigMapApplied(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, time.Minute)
	b := c.render(t, appPlan("dash", "rolling"), Options{Image: image("a1"), AgentImage: testAgentImage, Monitoring: true})
	if _, err := c.Apply(ctx, b, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err := c.Core.CoreV1().ConfigMaps(c.Namespace).Get(ctx, "dash-dashboard", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the dashboard ConfigMap was not applied: %v", err)
	}
	if cm.Labels[DashboardLabel] != "1" || cm.Labels[LabelPartOf] != ApplySetID("dash", c.Namespace) {
		t.Errorf("labels %v", cm.Labels)
	}
	if !json.Valid([]byte(cm.Data["pyship-dash.json"])) {
		t.Errorf("the applied dashboard is not JSON: %.200s", cm.Data["pyship-dash.json"])
	}
}
