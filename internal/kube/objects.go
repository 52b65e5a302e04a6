package kube

import (
	"fmt"
	"sort"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func (r *renderer) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: r.o.Namespace}
}

func (r *renderer) selector() map[string]string {
	return map[string]string{LabelName: r.app}
}

func (r *renderer) serviceAccount() runtime.Object {
	no := false
	return &corev1.ServiceAccount{
		TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta:                   r.meta(r.app),
		AutomountServiceAccountToken: &no,
	}
}

func (r *renderer) configMapName() string { return r.app + "-config" }
func (r *renderer) secretName() string    { return r.app + "-secrets" }

func (r *renderer) configMaps() []runtime.Object {
	if r.p.Config == nil && len(r.o.ConfigFiles) == 0 {
		return nil
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(r.configMapName()),
		Data:       map[string]string{},
	}
	for k, v := range r.o.ConfigFiles {
		cm.Data[k] = v
	}
	cm.Annotations = map[string]string{AnnotationConfigHash: r.configHash}
	return []runtime.Object{cm}
}

// hasSecret reports whether the app has secrets (a Secret, and the pod reads it).
func (r *renderer) hasSecret() bool { return r.p.SecretsFile != "" || len(r.o.Secrets) > 0 }

func (r *renderer) secret() []runtime.Object {
	if !r.hasSecret() {
		return nil
	}
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: r.meta(r.secretName()),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{},
	}
	for k, v := range r.o.Secrets {
		s.Data[k] = []byte(v)
	}
	return []runtime.Object{s}
}

func (r *renderer) pvcName(path string) string { return r.app + "-data-" + dnsName(path) }

func (r *renderer) pvcs() ([]runtime.Object, error) {
	var out []runtime.Object
	size, err := resource.ParseQuantity(r.o.StorageSize)
	if err != nil {
		return nil, fmt.Errorf("render option storage-size: %w", err)
	}
	for _, d := range r.p.Data {
		if !d.Persistent {
			continue
		}
		pvc := &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: r.meta(r.pvcName(d.Path)),
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{r.accessMode()},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			},
		}
		// Persistent data is never pruned: a folder dropped from the spec keeps its volume.
		pvc.Annotations = map[string]string{AnnotationKeep: "true"}
		if r.o.StorageClass != "" {
			sc := r.o.StorageClass
			pvc.Spec.StorageClassName = &sc
		}
		out = append(out, pvc)
	}
	return out, nil
}

func (r *renderer) isWeb() bool { return r.p.Run.Kind != "worker" && r.p.Run.Port > 0 }

func (r *renderer) service(name string, selector map[string]string) *corev1.Service {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: r.meta(name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	if r.sidecar {
		// By number: the EndpointSlice controller (1.32) looks named target ports up in the
		// app containers only, not in native sidecars, and would leave the Service empty.
		serve, metrics := sidecarPorts(r.p.Run.Port)
		svc.Spec.Ports[0].TargetPort = intstr.FromInt32(int32(serve))
		// The port the ServiceMonitor scrapes the sidecar's series on.
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: sidecarMetricsName, Port: int32(metrics), TargetPort: intstr.FromInt32(int32(metrics)), Protocol: corev1.ProtocolTCP,
		})
	}
	return svc
}

// services renders the app's Service; blue-green selects the active release, canary with
// the Gateway API adds one Service per release for the HTTPRoute's weighted backends.
func (r *renderer) services() []runtime.Object {
	if !r.isWeb() {
		return nil
	}
	sel := r.selector()
	if strategy(r.p) == "blue-green" {
		sel[LabelRelease] = r.release
	}
	out := []runtime.Object{r.service(r.app, sel)}
	if strategy(r.p) == "canary" && r.o.GatewayAPI {
		rs := r.selector()
		rs[LabelRelease] = r.release
		svc := r.service(ReleaseServiceName(r.app, r.release), rs)
		svc.Labels = map[string]string{LabelRelease: r.release}
		out = append(out, svc)
	}
	return out
}

// ReleaseServiceName is the per-release Service an HTTPRoute weights in canary rollouts.
func ReleaseServiceName(app, release string) string { return app + "-" + release }

func (r *renderer) hpa() []runtime.Object {
	replicas := int32(max(r.p.Deploy.Replicas, 1))
	if r.o.MaxReplicas <= int(replicas) {
		return nil
	}
	target := int32(r.o.TargetCPU)
	return []runtime.Object{&autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: r.meta(r.app),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: DeploymentName(r.app, r.release)},
			MinReplicas:    &replicas,
			MaxReplicas:    int32(r.o.MaxReplicas),
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
	}}
}

func (r *renderer) pdb() runtime.Object {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: r.meta(r.app),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: r.selector()},
		},
	}
}

// networkPolicy opens only the app's serving port to ingress (nothing for a worker); with the
// proxy sidecar, the sidecar's serving and metrics ports.
func (r *renderer) networkPolicy() runtime.Object {
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: r.meta(r.app),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: r.selector()},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{},
		},
	}
	if r.isWeb() {
		tcp := corev1.ProtocolTCP
		rule := networkingv1.NetworkPolicyIngressRule{}
		ports := []int{r.servingPort()}
		if r.sidecar { // the app's own port stays closed: it is reached through the sidecar only
			_, metrics := sidecarPorts(r.p.Run.Port)
			ports = append(ports, metrics)
		}
		for _, p := range ports {
			port := intstr.FromInt32(int32(p))
			rule.Ports = append(rule.Ports, networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &port})
		}
		np.Spec.Ingress = append(np.Spec.Ingress, rule)
	}
	return np
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// accessMode is the persistent volumes' access mode: ReadWriteOnce unless the spec asks for
// ReadWriteMany ([kubernetes] access_mode).
func (r *renderer) accessMode() corev1.PersistentVolumeAccessMode {
	if r.o.AccessMode == string(corev1.ReadWriteMany) {
		return corev1.ReadWriteMany
	}
	return corev1.ReadWriteOnce
}
