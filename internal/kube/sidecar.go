package kube

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pyship/pyship/internal/plan"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The ports of a pod with the proxy sidecar: the sidecar owns the port named "http" (which the
// Service, the Ingress or HTTPRoute and the NetworkPolicy reach) and serves its metrics on
// "pyship-metrics"; the app keeps its own port, renamed "app", and is reached on loopback.
const (
	sidecarName        = "pyship-proxy"
	sidecarMetricsName = "pyship-metrics"
	appPortName        = "app"
)

// ProxySidecar tells whether the app's pods get pyship's proxy sidecar ([kubernetes]
// proxy_sidecar): as the spec or flags say, else on when something reads its series (the
// [kubernetes] monitoring ServiceMonitor, or a canary judged by [deploy.canary]
// prometheus_url). A worker has no traffic to proxy.
func ProxySidecar(p *plan.Plan, o Options) bool {
	if p.Run.Kind == "worker" || p.Run.Port <= 0 {
		return false
	}
	if o.ProxySidecar != nil {
		return *o.ProxySidecar
	}
	return o.Monitoring || (strategy(p) == "canary" && p.Deploy.Canary != nil && p.Deploy.Canary.PrometheusURL != "")
}

// sidecarPorts picks the sidecar's serving and metrics ports so neither is the app's.
func sidecarPorts(app int) (serve, metrics int) {
	pick := func(cands []int, taken ...int) int {
		for _, c := range cands {
			if !slices.Contains(taken, c) {
				return c
			}
		}
		return 0 // unreachable: more candidates than taken ports
	}
	serve = pick([]int{8080, 8081}, app)
	metrics = pick([]int{9180, 9181, 9182}, app, serve)
	return serve, metrics
}

// servingPort is the pod's port behind the Service: the sidecar's, or the app's without it.
func (r *renderer) servingPort() int {
	if r.sidecar {
		serve, _ := sidecarPorts(r.p.Run.Port)
		return serve
	}
	return r.p.Run.Port
}

// sidecarContainer is the native sidecar (an init container that keeps running, Kubernetes
// ≥ 1.29): `pyship agent sidecar` from pyship's agent image, proxying the pod's traffic to the
// app on loopback and counting it per release. It starts before the app (its startup probe
// passes once it listens) and is stopped after the app has exited, so it drains last. Its
// release label comes from the pod's own label through the downward API, so the pod template,
// which names the release by its hash, does not contain it.
func (r *renderer) sidecarContainer() (corev1.Container, error) {
	if r.o.AgentImage == "" {
		return corev1.Container{}, fmt.Errorf("render: the proxy sidecar runs pyship's agent image, and none was given; pass --agent-image REPO@sha256:... (deploy and render build it from this pyship binary), or set [kubernetes] proxy_sidecar = false")
	}
	drain, err := duration(r.p.Deploy.DrainTimeout, 30*time.Second, "deploy.drain_timeout")
	if err != nil {
		return corev1.Container{}, err
	}
	request, err := duration(r.p.Deploy.RequestTimeout, 60*time.Second, "deploy.request_timeout")
	if err != nil {
		return corev1.Container{}, err
	}
	serve, metrics := sidecarPorts(r.p.Run.Port)
	always := corev1.ContainerRestartPolicyAlways
	health := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString(sidecarMetricsName)}}
	q := resource.MustParse
	return corev1.Container{
		Name:            sidecarName,
		Image:           r.o.AgentImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		RestartPolicy:   &always,
		Args: []string{"agent", "sidecar",
			"--listen", ":" + strconv.Itoa(serve), "--metrics-listen", ":" + strconv.Itoa(metrics),
			"--backend", "127.0.0.1:" + strconv.Itoa(r.p.Run.Port),
			"--app", r.app, "--release", "$(PYSHIP_RELEASE)", "--version", r.p.Version, "--strategy", string(strategy(r.p)),
			"--request-timeout", request.String(), "--drain-timeout", drain.String()},
		Env: []corev1.EnvVar{{Name: "PYSHIP_RELEASE", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['" + LabelRelease + "']"}}}},
		Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: int32(serve), Protocol: corev1.ProtocolTCP},
			{Name: sidecarMetricsName, ContainerPort: int32(metrics), Protocol: corev1.ProtocolTCP},
		},
		// A proxy needs little; its CPU limit is the app's, so it never throttles before the app.
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: q("10m"), corev1.ResourceMemory: q("16Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: q(r.o.CPULimit), corev1.ResourceMemory: q("128Mi")},
		},
		StartupProbe:    &corev1.Probe{ProbeHandler: health, PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 30, SuccessThreshold: 1},
		ReadinessProbe:  &corev1.Probe{ProbeHandler: health, PeriodSeconds: 5, TimeoutSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1},
		SecurityContext: restrictedContainer(),
	}, nil
}

// containerStatuses are the statuses of the pod's app container and of its proxy sidecar: a
// sidecar that cannot pull its image, or crash-loops, fails the replica as the app would.
func containerStatuses(p *corev1.Pod) []corev1.ContainerStatus {
	return append(slices.Clone(p.Status.ContainerStatuses), p.Status.InitContainerStatuses...)
}
