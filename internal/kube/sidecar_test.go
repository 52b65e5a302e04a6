package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestProxySidecarIsOnWhenItsSeriesAreRead(t *testing.T) {
	on, off := ptr(true), ptr(false)
	canary := webPlan("shop", "canary")
	canary.Deploy.Canary = &plan.Canary{PrometheusURL: "http://prom:9090"}
	worker := &plan.Plan{Name: "jobs", Run: plan.Run{Kind: "worker"}}
	for _, tc := range []struct {
		name string
		p    *plan.Plan
		o    Options
		want bool
	}{
		{"nothing reads it", webPlan("shop", "rolling"), Options{}, false},
		{"monitoring", webPlan("shop", "rolling"), Options{Monitoring: true}, true},
		{"canary analysis", canary, Options{}, true},
		{"canary without analysis", webPlan("shop", "canary"), Options{}, false},
		{"switched off", webPlan("shop", "rolling"), Options{Monitoring: true, ProxySidecar: off}, false},
		{"switched on", webPlan("shop", "blue-green"), Options{ProxySidecar: on}, true},
		{"worker", worker, Options{Monitoring: true, ProxySidecar: on}, false},
	} {
		if got := ProxySidecar(tc.p, tc.o); got != tc.want {
			t.Errorf("%s: ProxySidecar = %v, want %v", tc.name, got, tc.want)
		}
	}
	// The spec's key wins over the flags' absence, and a flag over the spec.
	p := webPlan("shop", "rolling")
	p.Kubernetes = &plan.Kubernetes{Monitoring: true, ProxySidecar: off}
	if o := OptionsFor(p).Override(Options{}); ProxySidecar(p, o) {
		t.Error("[kubernetes] proxy_sidecar = false did not turn the sidecar off")
	}
	if o := OptionsFor(p).Override(Options{ProxySidecar: on}); !ProxySidecar(p, o) {
		t.Error("a flag turning the sidecar on did not win over the spec")
	}
}

func TestSidecarPortsAvoidTheApps(t *testing.T) {
	for app, want := range map[int][2]int{8000: {8080, 9180}, 8080: {8081, 9180}, 9180: {8080, 9181}} {
		if s, m := sidecarPorts(app); s != want[0] || m != want[1] {
			t.Errorf("app on %d: sidecar on %d, metrics on %d; want %v", app, s, m, want)
		}
	}
}

// renderedPod renders p with o and returns its Deployment's pod template and NetworkPolicy.
func renderedPod(t *testing.T, p *plan.Plan, o Options) (*Bundle, corev1.PodTemplateSpec, networkingv1.NetworkPolicy) {
	t.Helper()
	b, err := Render(p, o)
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	var np networkingv1.NetworkPolicy
	for _, u := range b.Objects {
		switch u.GetKind() {
		case "Deployment":
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d)
		case "NetworkPolicy":
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return b, d.Spec.Template, np
}

// TestRenderedSidecarFrontsTheApp: the sidecar is a native sidecar holding the port the
// Service reaches, proxying to the app's own port on loopback; the app's probes stay on the
// app; the NetworkPolicy opens the sidecar's ports, not the app's.
func TestRenderedSidecarFrontsTheApp(t *testing.T) {
	o := Options{Namespace: "shop", Image: testImage, AgentImage: testAgentImage, ProxySidecar: ptr(true)}
	b, tpl, np := renderedPod(t, webPlan("shop", "canary"), o)
	if !b.Sidecar {
		t.Fatal("Bundle.Sidecar is false")
	}
	if len(tpl.Spec.InitContainers) != 1 {
		t.Fatalf("%d init containers, want the sidecar", len(tpl.Spec.InitContainers))
	}
	sc, app := tpl.Spec.InitContainers[0], tpl.Spec.Containers[0]
	if sc.RestartPolicy == nil || *sc.RestartPolicy != corev1.ContainerRestartPolicyAlways || sc.Image != testAgentImage {
		t.Errorf("the sidecar is not a native sidecar of the agent image: %+v", sc)
	}
	args := strings.Join(sc.Args, " ")
	for _, want := range []string{"agent sidecar ", "--listen :8080", "--metrics-listen :9180", "--backend 127.0.0.1:8000",
		"--app shop", "--release $(PYSHIP_RELEASE)", "--version 1.0.0", "--strategy canary", "--drain-timeout 20s"} {
		if !strings.Contains(args, want) {
			t.Errorf("sidecar args %q lack %q", args, want)
		}
	}
	if len(sc.Env) != 1 || sc.Env[0].ValueFrom == nil || sc.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['pyship.dev/release']" {
		t.Errorf("the sidecar's release does not come from the pod's label: %+v", sc.Env)
	}
	if sc.Ports[0].Name != "http" || sc.Ports[0].ContainerPort != 8080 || app.Ports[0].Name != "app" || app.Ports[0].ContainerPort != 8000 {
		t.Errorf("ports: sidecar %+v, app %+v; want the sidecar on http:8080 and the app on app:8000", sc.Ports, app.Ports)
	}
	if app.ReadinessProbe.HTTPGet.Port.StrVal != "app" || app.LivenessProbe.HTTPGet.Port.StrVal != "app" {
		t.Errorf("the app's probes do not go to the app: %+v", app.ReadinessProbe)
	}
	if len(app.Command) > 0 && strings.Contains(strings.Join(app.Command, " "), "8080") {
		t.Errorf("the app's command moved to the sidecar's port: %v", app.Command)
	}
	// The Service reaches the sidecar by port number (EndpointSlices do not resolve a native
	// sidecar's port names in 1.32).
	for _, u := range b.Objects {
		if u.GetKind() != "Service" {
			continue
		}
		var svc corev1.Service
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &svc); err != nil {
			t.Fatal(err)
		}
		if len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].TargetPort.IntVal != 8080 || svc.Spec.Ports[1].Name != "pyship-metrics" || svc.Spec.Ports[1].TargetPort.IntVal != 9180 {
			t.Errorf("Service %s ports %+v, want http → 8080 and pyship-metrics → 9180 by number", svc.Name, svc.Spec.Ports)
		}
	}
	var open []int32
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			open = append(open, p.Port.IntVal)
		}
	}
	if len(open) != 2 || open[0] != 8080 || open[1] != 9180 {
		t.Errorf("the NetworkPolicy opens %v, want the sidecar's 8080 and 9180 only", open)
	}

	// Turning the sidecar off gives the pod without it, and another release.
	off := o
	off.ProxySidecar = ptr(false)
	b2, tpl2, _ := renderedPod(t, webPlan("shop", "canary"), off)
	if b2.Sidecar || len(tpl2.Spec.InitContainers) != 0 || tpl2.Spec.Containers[0].Ports[0].Name != "http" || b2.Release == b.Release {
		t.Errorf("without the sidecar: %+v, release %s (with it %s)", tpl2.Spec, b2.Release, b.Release)
	}

	// Without the agent image the render fails, saying how to give one or turn the sidecar off.
	none := o
	none.AgentImage = ""
	if _, err := Render(webPlan("shop", "canary"), none); err == nil || !strings.Contains(err.Error(), "--agent-image") || !strings.Contains(err.Error(), "proxy_sidecar = false") {
		t.Errorf("render of the sidecar without an agent image: %v", err)
	}
}

// TestSidecarPodIsAdmittedUnderPodSecurityRestricted: the real API server's Pod Security
// admission, enforcing "restricted", admits the rendered pod with its sidecar, and validates
// the native sidecar's fields.
func TestSidecarPodIsAdmittedUnderPodSecurityRestricted(t *testing.T) {
	c := newCluster(t)
	o := Options{Namespace: c.Namespace, Image: testImage, AgentImage: testAgentImage, Monitoring: true}
	_, tpl, _ := renderedPod(t, webPlan("shop", "rolling"), o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "shop-sidecar", Labels: tpl.Labels}, Spec: tpl.Spec}
	pod.Spec.Volumes = nil // the claims, ConfigMap and ServiceAccount are not there; admission is what is checked
	pod.Spec.ServiceAccountName = ""
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].VolumeMounts = nil
	}
	if _, err := c.Core.CoreV1().Pods(c.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("the rendered pod with its sidecar is refused: %v", err)
	}
	// The check has teeth: the same pod whose sidecar may escalate is refused.
	yes := true
	pod.Spec.InitContainers[0].SecurityContext.AllowPrivilegeEscalation = &yes
	_, err := c.Core.CoreV1().Pods(c.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil || !strings.Contains(err.Error(), "restricted") || !strings.Contains(err.Error(), sidecarName) {
		t.Errorf("a sidecar allowing privilege escalation: %v, want a Pod Security refusal naming it", err)
	}
}
