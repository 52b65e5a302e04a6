package kube

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pyship/pyship/internal/plan"
)

// Where the pod of a plan with Run.PrometheusMultiproc keeps prometheus_client's files (an
// emptyDir, which the gunicorn config empties whenever gunicorn starts, so a restarted
// container starts from zero) and the gunicorn config (from a ConfigMap).
const (
	multiprocDir       = "/pyship/prometheus-multiproc"
	multiprocConfigDir = "/pyship/gunicorn"
)

func (r *renderer) multiprocConfigMapName() string { return r.app + "-gunicorn" }

// multiprocConfigMap holds the gunicorn config of prometheus_client's multi-process mode.
func (r *renderer) multiprocConfigMap() []runtime.Object {
	if !r.p.Run.PrometheusMultiproc {
		return nil
	}
	return []runtime.Object{&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: r.meta(r.multiprocConfigMapName()),
		Data:       map[string]string{plan.GunicornConfigName: plan.GunicornMultiprocConfig},
	}}
}

// multiprocVolumes are the pod's volumes of multi-process mode.
func (r *renderer) multiprocVolumes() []corev1.Volume {
	if !r.p.Run.PrometheusMultiproc {
		return nil
	}
	return []corev1.Volume{
		{Name: "prometheus-multiproc", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "gunicorn-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.multiprocConfigMapName()}}}},
	}
}

// multiproc mounts the volumes of multi-process mode in the app's container c and points
// prometheus_client and gunicorn at them.
func (r *renderer) multiproc(c *corev1.Container) {
	if !r.p.Run.PrometheusMultiproc {
		return
	}
	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: "prometheus-multiproc", MountPath: multiprocDir},
		corev1.VolumeMount{Name: "gunicorn-config", MountPath: multiprocConfigDir, ReadOnly: true})
	c.Env = append(c.Env,
		corev1.EnvVar{Name: plan.MultiprocDirVar, Value: multiprocDir},
		corev1.EnvVar{Name: plan.GunicornArgsVar, Value: plan.GunicornArgs(path.Join(multiprocConfigDir, plan.GunicornConfigName))})
}
