package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// AppDir is where the image puts the app; config and data folders are mounted below it.
const AppDir = "/app"

// Bundle is everything rendered for one app, in a deterministic order.
type Bundle struct {
	App       string
	Namespace string
	// Release is the release of the rendered Deployment.
	Release string
	// Strategy is the plan's rollout strategy.
	Strategy rollout.Strategy
	// Sidecar tells that the pods run pyship's proxy sidecar, which exports the pyship_*
	// request series per release (ProxySidecar).
	Sidecar bool
	Objects []*unstructured.Unstructured
	// BackupBefore is the pod that backs the app's data up before a deploy changes anything
	// ([deploy] backup_before); nil when the plan asks for none. It is run, not applied.
	BackupBefore *corev1.PodTemplateSpec
	// BackupPod is the pod that backs the app up (and restores it) from inside the cluster;
	// nil when the plan has no [backup] schedule or backup_before.
	BackupPod *corev1.PodTemplateSpec
}

// Deployment returns the bundle's Deployment.
func (b *Bundle) Deployment() *unstructured.Unstructured {
	for _, o := range b.Objects {
		if o.GetKind() == "Deployment" {
			return o
		}
	}
	return nil
}

// renderer carries what every object builder needs.
type renderer struct {
	p          *plan.Plan
	o          Options
	app        string
	release    string
	configHash string
	sidecar    bool // the pods have pyship's proxy sidecar (ProxySidecar)
}

// Render turns a resolved plan into the Kubernetes objects of the app.
func Render(p *plan.Plan, opts Options) (*Bundle, error) {
	if p == nil || p.Name == "" {
		return nil, fmt.Errorf("render: the plan has no app name; set name in pyship.toml")
	}
	if e := p.Edge; e != nil && (len(e.Allow) > 0 || e.BasicAuth != "" || e.RateLimit > 0) {
		// Rendering without them would publish an app its spec means to protect.
		return nil, fmt.Errorf("render: [edge] allow, basic_auth and rate_limit are enforced by the local target's proxy only, and the rendered Ingress would leave %s open; remove them for Kubernetes (e.g. in an [env.NAME] overlay) and enforce them at the ingress controller", p.Name)
	}
	if e := p.Edge; e != nil && e.TLS != "" {
		return nil, fmt.Errorf("render: [edge] tls is served by the local target's shared edge only; remove it for Kubernetes (e.g. in an [env.NAME] overlay) and let the ingress controller or cert-manager provide %s's certificates", p.Name)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &renderer{p: p, o: opts, app: p.Name, configHash: hashFiles(opts.ConfigFiles), sidecar: ProxySidecar(p, opts)}
	tpl, err := r.podTemplate()
	if err != nil {
		return nil, err
	}
	r.release = opts.Release
	if r.release == "" {
		if r.release, err = releaseID(tpl); err != nil {
			return nil, err
		}
	}
	var objs []runtime.Object
	add := func(o runtime.Object, err error) error {
		if err != nil {
			return err
		}
		if o != nil {
			objs = append(objs, o)
		}
		return nil
	}
	objs = append(objs, r.serviceAccount())
	objs = append(objs, r.configMaps()...)
	objs = append(objs, r.multiprocConfigMap()...)
	objs = append(objs, r.secret()...)
	pvcs, err := r.pvcs()
	if err != nil {
		return nil, err
	}
	objs = append(objs, pvcs...)
	objs = append(objs, r.services()...)
	if err := add(r.deployment(tpl)); err != nil {
		return nil, err
	}
	objs = append(objs, r.hpa()...)
	objs = append(objs, r.pdb(), r.networkPolicy())
	if err := add(r.exposure()); err != nil {
		return nil, err
	}
	mon, err := r.monitoring()
	if err != nil {
		return nil, err
	}
	objs = append(objs, mon...)
	dash, err := r.dashboard()
	if err != nil {
		return nil, err
	}
	objs = append(objs, dash...)
	backupPod, err := r.backupPod()
	if err != nil {
		return nil, err
	}
	if cj := r.backupCronJob(backupPod); cj != nil {
		objs = append(objs, cj)
	}

	b := &Bundle{App: r.app, Namespace: opts.Namespace, Release: r.release, Strategy: strategy(p), Sidecar: r.sidecar}
	b.BackupPod = backupPod
	if backupPod != nil && p.Deploy.BackupBefore {
		b.BackupBefore = backupPod
	}
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return nil, err
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range r.commonLabels() {
			labels[k] = v
		}
		labels[LabelPartOf] = ApplySetID(r.app, opts.Namespace)
		u.SetLabels(labels)
		b.Objects = append(b.Objects, u)
	}
	sortObjects(b.Objects)
	return b, nil
}

// strategy is the plan's strategy; an unknown one is kept as given, and refused by Render's
// caller (the plan check) and by Deploy.
func strategy(p *plan.Plan) rollout.Strategy {
	s, err := rollout.ParseStrategy(string(p.Deploy.Strategy))
	if err != nil {
		return p.Deploy.Strategy
	}
	return s
}

func (r *renderer) commonLabels() map[string]string {
	return map[string]string{LabelName: r.app, LabelManagedBy: ManagedBy, LabelApp: r.app}
}

// DeploymentName is the Deployment of a release, APP-RELEASE, whatever the strategy: each
// release has its own, which rollout.Engine scales.
func DeploymentName(app, release string) string { return app + "-" + release }

// releaseID names the release of a pod template (without its release label): a change to
// anything the pods run (image, command, env, resources, probes, volumes, node selector, the
// config and secret hashes) is a new release, one to nothing of it is the same release.
func releaseID(tpl corev1.PodTemplateSpec) (string, error) {
	raw, err := json.Marshal(tpl) // struct fields in order, map keys sorted: deterministic
	if err != nil {
		return "", fmt.Errorf("render: hashing the pod template: %w", err)
	}
	h := sha256.Sum256(raw)
	return "r" + hex.EncodeToString(h[:])[:8], nil
}

func hashFiles(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s", n, len(files[n]), files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// kindOrder is the order objects are applied and printed in: what others depend on first.
var kindOrder = map[string]int{
	"ServiceAccount": 1, "Secret": 2, "ConfigMap": 3, "PersistentVolumeClaim": 4, "Service": 5,
	"Deployment": 6, "HorizontalPodAutoscaler": 7, "PodDisruptionBudget": 8, "NetworkPolicy": 9,
	"Ingress": 10, "HTTPRoute": 11, "ServiceMonitor": 12, "PrometheusRule": 13, "CronJob": 14,
}

func sortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		ki, kj := kindOrder[objs[i].GetKind()], kindOrder[objs[j].GetKind()]
		if ki != kj {
			return ki < kj
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}

func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", o, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	if u.GetKind() == "" {
		return nil, fmt.Errorf("rendering %T: no kind set", o)
	}
	return u, nil
}

// gvk is a shorthand for schema.GroupVersionKind.
func gvk(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

// dnsName turns a folder path into a DNS-1123 label fragment.
func dnsName(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}
