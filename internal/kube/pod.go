package kube

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// preStopSeconds keeps a terminating pod serving while endpoints and load balancers forget it.
const preStopSeconds = 5

// deployment renders the app's Deployment around the pod template tpl, labelled with the release.
func (r *renderer) deployment(tpl corev1.PodTemplateSpec) (runtime.Object, error) {
	replicas := int32(max(r.p.Deploy.Replicas, 1))
	startup, err := duration(r.p.Health.StartupTimeout, 60*time.Second, "health.startup_timeout")
	if err != nil {
		return nil, err
	}
	tpl.Labels[LabelRelease] = r.release
	selector := r.selector()
	selector[LabelRelease] = r.release // the Deployments of two releases never share a pod
	surge, unavailable := intstr.FromString("25%"), intstr.FromInt32(0)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: r.meta(DeploymentName(r.app, r.release)),
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			Selector:                &metav1.LabelSelector{MatchLabels: selector},
			RevisionHistoryLimit:    ptr(int32(5)),
			ProgressDeadlineSeconds: ptr(int32(startup/time.Second) + 60),
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
			},
			Template: tpl,
		},
	}
	if strategy(r.p) == rollout.Recreate {
		// Never a surge pod beside the old ones: under kubectl apply or a GitOps controller
		// (ForKubectl) the Deployment's controller removes every old pod before creating
		// the new ones, so a ReadWriteOnce volume is free for them.
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	if r.o.MaxReplicas > int(replicas) {
		d.Spec.Replicas = nil // the HorizontalPodAutoscaler owns it (its minReplicas is the plan's replicas)
	}
	d.Labels = map[string]string{LabelRelease: r.release}
	d.Annotations = map[string]string{AnnotationImage: r.o.Image}
	return d, nil
}

// podTemplate renders the restricted pod of the app, without its release label: everything in
// it, the config and secret hashes included, makes the release (releaseID).
func (r *renderer) podTemplate() (corev1.PodTemplateSpec, error) {
	drain, err := duration(r.p.Deploy.DrainTimeout, 30*time.Second, "deploy.drain_timeout")
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	podLabels := r.selector()
	for k, v := range r.commonLabels() {
		podLabels[k] = v
	}
	c, err := r.container()
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	var inits []corev1.Container
	if r.sidecar {
		sc, err := r.sidecarContainer()
		if err != nil {
			return corev1.PodTemplateSpec{}, err
		}
		inits = append(inits, sc)
	}
	ann := map[string]string{AnnotationConfigHash: r.configHash}
	if r.hasSecret() {
		// A change of the secrets alone changes the template too, so the pods roll.
		ann[AnnotationSecretHash] = hashFiles(r.o.Secrets)
	}
	grace := int64(drain/time.Second) + preStopSeconds + 5
	no, yes := false, true
	uid := int64(65532)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: ann},
		Spec: corev1.PodSpec{
			ServiceAccountName:            r.app,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  r.o.NodeSelector,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			InitContainers: inits,
			Containers:     []corev1.Container{c},
			Volumes:        append(r.volumes(), r.multiprocVolumes()...),
		},
	}, nil
}

// restrictedContainer is the security context Pod Security "restricted" admits: no privilege
// escalation, every capability dropped, non-root, the runtime's seccomp profile, and a
// read-only root file system.
func restrictedContainer() *corev1.SecurityContext {
	no, yes := false, true
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes, RunAsNonRoot: &yes,
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// appPort is the name of the app container's port: "http" (behind the Service), or "app"
// behind the proxy sidecar, which then owns "http".
func (r *renderer) appPort() string {
	if r.sidecar {
		return appPortName
	}
	return "http"
}

func (r *renderer) container() (corev1.Container, error) {
	res, err := r.resources()
	if err != nil {
		return corev1.Container{}, err
	}
	c := corev1.Container{
		Name:            "app",
		Image:           r.o.Image,
		Command:         r.command(),
		ImagePullPolicy: corev1.PullIfNotPresent,
		Env:             r.env(),
		Resources:       res,
		SecurityContext: restrictedContainer(),
		Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
			Sleep: &corev1.SleepAction{Seconds: preStopSeconds},
		}},
		VolumeMounts: r.mounts(),
	}
	r.multiproc(&c)
	if r.hasSecret() {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: r.secretName()}}}}
	}
	if r.isWeb() {
		c.Ports = []corev1.ContainerPort{{Name: r.appPort(), ContainerPort: int32(r.p.Run.Port), Protocol: corev1.ProtocolTCP}}
	}
	if err := r.probes(&c); err != nil {
		return c, err
	}
	return c, nil
}

func (r *renderer) resources() (corev1.ResourceRequirements, error) {
	q := func(s string) resource.Quantity { return resource.MustParse(s) } // validated in Options.validate
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: q(r.o.CPU), corev1.ResourceMemory: q(r.o.Memory)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: q(r.o.CPULimit), corev1.ResourceMemory: q(r.o.MemoryLimit)},
	}, nil
}

// workers is the gunicorn/uvicorn worker count: the spec's when it sets one, otherwise from
// the CPU limit (2×CPU+1 for gunicorn, one per CPU for uvicorn).
func (r *renderer) workers() int {
	if ev, ok := r.p.Evidence["run.workers"]; ok && strings.HasPrefix(ev.Rule, "spec") && r.p.Run.Workers > 0 {
		return r.p.Run.Workers
	}
	lim := resource.MustParse(r.o.CPULimit)
	cpus := int(math.Ceil(float64(lim.MilliValue()) / 1000))
	cpus = max(cpus, 1)
	if r.p.Run.Server == "gunicorn" {
		return 2*cpus + 1
	}
	return cpus
}

// command is the container's command when the image's own pins a worker count: the gunicorn or
// uvicorn command pyship generated (which passes --workers, and the servers let the flag win
// over WEB_CONCURRENCY), with the worker count for the CPU limit and $PORT expanded by the
// kubelet. nil keeps the image's command: one written in the spec or the project keeps its
// own flags, and reads WEB_CONCURRENCY when it has none.
func (r *renderer) command() []string {
	run := r.p.Run
	if run.WorkersArg <= 0 || run.WorkersArg >= len(run.Command) {
		return nil
	}
	argv := slices.Clone(run.Command)
	argv[run.WorkersArg] = strconv.Itoa(r.workers())
	port := strings.NewReplacer("${PORT}", "$(PORT)", "$PORT", "$(PORT)")
	for i, a := range argv {
		argv[i] = port.Replace(a)
	}
	return argv
}

func (r *renderer) env() []corev1.EnvVar {
	env := []corev1.EnvVar{}
	for _, k := range sortedKeys(r.p.Env) {
		env = append(env, corev1.EnvVar{Name: k, Value: r.p.Env[k]})
	}
	set := func(k, v string) {
		if _, ok := r.p.Env[k]; !ok {
			env = append(env, corev1.EnvVar{Name: k, Value: v})
		}
	}
	if r.p.Run.Port > 0 {
		set("PORT", strconv.Itoa(r.p.Run.Port))
	}
	if r.p.Run.Server == "gunicorn" || r.p.Run.Server == "uvicorn" {
		set("WEB_CONCURRENCY", strconv.Itoa(r.workers()))
	}
	set("PYTHONDONTWRITEBYTECODE", "1")
	set("PYTHONUNBUFFERED", "1")
	set("TMPDIR", "/tmp")
	return env
}

func (r *renderer) volumes() []corev1.Volume {
	vols := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if r.p.Config != nil || len(r.o.ConfigFiles) > 0 {
		vols = append(vols, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.configMapName()},
		}}})
	}
	for _, d := range r.p.Data {
		v := corev1.Volume{Name: "data-" + dnsName(d.Path)}
		if d.Persistent {
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.pvcName(d.Path)}
		} else {
			v.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		vols = append(vols, v)
	}
	return vols
}

func (r *renderer) mounts() []corev1.VolumeMount {
	m := []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
	if r.p.Config != nil || len(r.o.ConfigFiles) > 0 {
		dir := "config"
		if r.p.Config != nil && r.p.Config.Path != "" {
			dir = r.p.Config.Path
		}
		m = append(m, corev1.VolumeMount{Name: "config", MountPath: path.Join(AppDir, dir), ReadOnly: true})
	}
	for _, d := range r.p.Data {
		m = append(m, corev1.VolumeMount{Name: "data-" + dnsName(d.Path), MountPath: path.Join(AppDir, d.Path)})
	}
	return m
}

// probes sets readiness, liveness and startup probes from the plan's health check. They go to
// the app's own port, also behind the proxy sidecar: the pod is ready when the app is, and
// the kubelet's checks are not counted as the app's traffic.
func (r *renderer) probes(c *corev1.Container) error {
	interval, err := duration(r.p.Health.Interval, 5*time.Second, "health.interval")
	if err != nil {
		return err
	}
	timeout, err := duration(r.p.Health.Timeout, 2*time.Second, "health.timeout")
	if err != nil {
		return err
	}
	startup, err := duration(r.p.Health.StartupTimeout, 60*time.Second, "health.startup_timeout")
	if err != nil {
		return err
	}
	var h corev1.ProbeHandler
	switch r.p.Health.Type {
	case "http":
		p := r.p.Health.Path
		if p == "" {
			p = "/"
		}
		h.HTTPGet = &corev1.HTTPGetAction{Path: p, Port: intstr.FromString(r.appPort())}
	case "tcp":
		h.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromString(r.appPort())}
	default: // "process": the container running is the check.
		return nil
	}
	if !r.isWeb() {
		return fmt.Errorf("render: health type %q needs a port, but the app is a worker; set [health] type = \"process\"", r.p.Health.Type)
	}
	secs := func(d time.Duration) int32 { return int32(max(d/time.Second, 1)) }
	c.ReadinessProbe = &corev1.Probe{ProbeHandler: h, PeriodSeconds: secs(interval), TimeoutSeconds: secs(timeout), FailureThreshold: 3, SuccessThreshold: 1}
	c.LivenessProbe = &corev1.Probe{ProbeHandler: h, PeriodSeconds: secs(interval) * 2, TimeoutSeconds: secs(timeout), FailureThreshold: 3, SuccessThreshold: 1}
	c.StartupProbe = &corev1.Probe{ProbeHandler: h, PeriodSeconds: secs(interval), TimeoutSeconds: secs(timeout), SuccessThreshold: 1,
		FailureThreshold: max(secs(startup)/secs(interval), 1)}
	return nil
}

func duration(s string, def time.Duration, field string) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("render: plan %s = %q is not a duration like 30s: %w", field, s, err)
	}
	return d, nil
}

func ptr[T any](v T) *T { return &v }
