package kube

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pyship/pyship/internal/plan"
)

// TestPrometheusMultiprocPod: a plan that uses prometheus_client under gunicorn gets an
// emptyDir for PROMETHEUS_MULTIPROC_DIR and the gunicorn config from a ConfigMap, passed in
// GUNICORN_CMD_ARGS so the command stays the image's; other plans get neither.
func TestPrometheusMultiprocPod(t *testing.T) {
	for _, on := range []bool{true, false} {
		p := webPlan("shop", "rolling")
		p.Run.PrometheusMultiproc = on
		b, err := Render(p, Options{Namespace: "shop", Image: testImage})
		if err != nil {
			t.Fatal(err)
		}
		var dep appsv1.Deployment
		var cm *corev1.ConfigMap
		for _, o := range b.Objects {
			switch {
			case o.GetKind() == "Deployment":
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &dep); err != nil {
					t.Fatal(err)
				}
			case o.GetKind() == "ConfigMap" && o.GetName() == "shop-gunicorn":
				cm = &corev1.ConfigMap{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, cm); err != nil {
					t.Fatal(err)
				}
			}
		}
		spec := dep.Spec.Template.Spec
		c := spec.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		mounts := map[string]string{}
		for _, m := range c.VolumeMounts {
			mounts[m.Name] = m.MountPath
		}
		vols := map[string]corev1.Volume{}
		for _, v := range spec.Volumes {
			vols[v.Name] = v
		}
		if !on {
			if cm != nil || env[plan.MultiprocDirVar] != "" || env[plan.GunicornArgsVar] != "" || mounts["prometheus-multiproc"] != "" {
				t.Errorf("without prometheus_client under gunicorn: ConfigMap %v, env %v, mounts %v", cm != nil, env, mounts)
			}
			continue
		}
		if cm == nil || cm.Data[plan.GunicornConfigName] != plan.GunicornMultiprocConfig {
			t.Fatalf("no ConfigMap shop-gunicorn holding %s", plan.GunicornConfigName)
		}
		if v := vols["prometheus-multiproc"]; v.EmptyDir == nil {
			t.Errorf("the prometheus_client folder is %+v, want an emptyDir", v.VolumeSource)
		}
		if v := vols["gunicorn-config"]; v.ConfigMap == nil || v.ConfigMap.Name != "shop-gunicorn" {
			t.Errorf("the gunicorn config volume is %+v", v.VolumeSource)
		}
		if env[plan.MultiprocDirVar] != mounts["prometheus-multiproc"] || env[plan.MultiprocDirVar] == "" {
			t.Errorf("%s = %q but the emptyDir is mounted at %q", plan.MultiprocDirVar, env[plan.MultiprocDirVar], mounts["prometheus-multiproc"])
		}
		if want := plan.GunicornArgs(mounts["gunicorn-config"] + "/" + plan.GunicornConfigName); env[plan.GunicornArgsVar] != want {
			t.Errorf("%s = %q, want %q", plan.GunicornArgsVar, env[plan.GunicornArgsVar], want)
		}
	}
}
