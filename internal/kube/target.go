package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// releaseTarget is the app on the cluster as rollout.Engine drives it: each release is a
// Deployment APP-RELEASE whose pods are its replicas, and traffic moves through the Service
// selector (blue-green), the HTTPRoute's backend weights (canary with a Gateway) or, for
// rolling and a canary without one, the replica counts themselves (the Service selects the
// app's pods of every release).
type releaseTarget struct {
	c *Client
	b *Bundle
	// startup is how long a replica may take to become ready, counted from its pod's creation
	// (or the deploy's start, for a pod not created yet); it has failed after that.
	startup time.Duration
	started time.Time
	now     func() time.Time
	// metrics reads a release's request metrics; nil when nothing measures them.
	metrics func(ctx context.Context, release string) (rollout.Metrics, error)
	// force takes the routing objects' fields over from other field managers.
	force bool

	mu sync.Mutex
	// weights are the weights last set, which a replica-weighted canary only records.
	weights map[string]int
	// scaledUp is when Start last scaled each release up: a pod not created yet counts its
	// startup time from then (a stable release restarted late in a rollback is not late).
	scaledUp map[string]time.Time
}

var _ rollout.Target = (*releaseTarget)(nil)

func (t *releaseTarget) deploymentName(release string) string { return t.b.App + "-" + release }

// Replicas lists, for each release Deployment, as many replicas as it asks for: its pods,
// ready ones first, and a pending replica for each pod not created yet; and every terminating
// pod of the app as Stopping, until it is gone.
func (t *releaseTarget) Replicas(ctx context.Context) ([]rollout.Replica, error) {
	app, ns := t.b.App, t.c.Namespace
	deps, err := t.c.Core.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + app + "," + LabelRelease})
	if err != nil {
		return nil, fmt.Errorf("listing the releases of %s: %w", app, err)
	}
	pods, err := t.c.Core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + app})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", app, err)
	}
	byRelease := map[string][]*corev1.Pod{}
	var out []rollout.Replica
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil {
			byRelease[p.Labels[LabelRelease]] = append(byRelease[p.Labels[LabelRelease]], p)
			continue
		}
		// Terminating: out of the Service, but it still runs its containers and holds its
		// volumes until the kubelet has stopped it and the pod object is gone.
		out = append(out, rollout.Replica{ID: p.Name, Release: p.Labels[LabelRelease], Health: rollout.Stopping})
	}
	for _, d := range deps.Items {
		rel := d.Labels[LabelRelease]
		if d.Name != t.deploymentName(rel) {
			continue // the single Deployment APP of an earlier pyship (adoptLegacy)
		}
		want := 1
		if d.Spec.Replicas != nil {
			want = int(*d.Spec.Replicas)
		}
		ps := byRelease[rel]
		sort.Slice(ps, func(i, j int) bool {
			if a, b := podReady(ps[i]), podReady(ps[j]); a != b {
				return a
			}
			return ps[i].Name < ps[j].Name
		})
		for i := range want {
			if i < len(ps) {
				out = append(out, t.replica(ctx, ps[i], rel))
				continue
			}
			r := rollout.Replica{ID: fmt.Sprintf("%s/pending-%d", d.Name, i), Release: rel, Health: rollout.Starting}
			t.mu.Lock()
			since := t.scaledUp[rel]
			t.mu.Unlock()
			if t.late(since) {
				r.Health = rollout.Failed
				r.Diagnosis = "its pod was not created within " + t.startup.String()
				if why := t.c.replicaSetFailures(ctx, releaseSelector(app, rel)); len(why) > 0 {
					r.Diagnosis += ": " + strings.Join(why, "; ")
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// fatalWaiting are the reasons a container waits for that do not pass by themselves.
var fatalWaiting = map[string]bool{"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true,
	"InvalidImageName": true, "CreateContainerConfigError": true, "CreateContainerError": true}

// replica judges one pod: ready; failed when it crash-loops, cannot pull or start its image, is
// not ready in time, or (for the release being rolled out) restarted at all; else starting.
func (t *releaseTarget) replica(ctx context.Context, p *corev1.Pod, rel string) rollout.Replica {
	r := rollout.Replica{ID: p.Name, Release: rel, Health: rollout.Starting}
	var restarts int32
	fatal := ""
	for _, cs := range containerStatuses(p) {
		restarts += cs.RestartCount
		if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
			fatal = w.Reason
		}
	}
	switch {
	case rel == t.b.Release && restarts > 0:
		r.Health, r.Diagnosis = rollout.Failed, fmt.Sprintf("pod %s restarted %d time(s)", p.Name, restarts)
	case podReady(p):
		r.Health = rollout.Ready
		return r
	case fatal != "":
		r.Health, r.Diagnosis = rollout.Failed, fmt.Sprintf("pod %s: %s", p.Name, fatal)
	case t.late(p.CreationTimestamp.Time):
		r.Health, r.Diagnosis = rollout.Failed, fmt.Sprintf("pod %s was not ready within %s", p.Name, t.startup)
	default:
		return r
	}
	if why := t.c.diagnosePod(ctx, p); len(why) > 0 {
		r.Diagnosis += ": " + strings.Join(why, "; ")
	}
	return r
}

// late reports whether a replica that began at since (or at the deploy's start, if later) has
// had its startup time.
func (t *releaseTarget) late(since time.Time) bool {
	if since.Before(t.started) {
		since = t.started
	}
	return t.startup > 0 && t.now().Sub(since) > t.startup
}

// Start scales the release's Deployment up by n.
func (t *releaseTarget) Start(ctx context.Context, release string, n int) error {
	d, err := t.c.Core.AppsV1().Deployments(t.c.Namespace).Get(ctx, t.deploymentName(release), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("starting replicas of release %s: %w", release, err)
	}
	cur := 1
	if d.Spec.Replicas != nil {
		cur = int(*d.Spec.Replicas)
	}
	if t.now != nil {
		t.mu.Lock()
		if t.scaledUp == nil {
			t.scaledUp = map[string]time.Time{}
		}
		t.scaledUp[release] = t.now()
		t.mu.Unlock()
	}
	return t.c.ScaleRelease(ctx, t.b.App, release, cur+n)
}

// deletionCost makes the ReplicaSet controller remove the pods being stopped first.
const deletionCost = "controller.kubernetes.io/pod-deletion-cost"

// Stop takes the replicas in ids away: their pods are marked to go first, and each release is
// scaled to the replicas it keeps, counted from its live pods (those marked by a Stop are
// going) and its pods not created yet. Counting what is kept, rather than subtracting, makes a
// Stop run again (after a crash, or twice) stop nothing more. The pods drain through their
// preStop hook and termination grace period.
func (t *releaseTarget) Stop(ctx context.Context, ids []string) error {
	pods := t.c.Core.CoreV1().Pods(t.c.Namespace)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{deletionCost: "-1000"}}})
	stopping := map[string]bool{}
	pending := map[string][]int{} // release -> indexes of the pending replicas to stop
	for _, id := range ids {
		if dep, idx, ok := strings.Cut(id, "/pending-"); ok {
			rel, isApp := strings.CutPrefix(dep, t.b.App+"-")
			i, err := strconv.Atoi(idx)
			if !isApp || err != nil {
				return fmt.Errorf("stopping replica %s: not a replica of %s", id, t.b.App)
			}
			pending[rel] = append(pending[rel], i)
			continue
		}
		p, err := pods.Get(ctx, id, metav1.GetOptions{})
		switch {
		case isNotFound(err):
			continue // stopped already
		case err != nil:
			return fmt.Errorf("stopping replica %s: %w", id, err)
		case p.Labels[LabelName] != t.b.App:
			return fmt.Errorf("stopping replica %s: not a replica of %s", id, t.b.App)
		case p.DeletionTimestamp != nil:
			continue
		}
		stopping[id] = true
		pending[p.Labels[LabelRelease]] = append(pending[p.Labels[LabelRelease]], -1)
		if _, err := pods.Patch(ctx, id, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: stateManager}); err != nil && !isNotFound(err) {
			return fmt.Errorf("marking pod %s to be removed: %w", id, err)
		}
	}
	rels := slices.Sorted(maps.Keys(pending))
	for _, rel := range rels {
		d, err := t.c.Core.AppsV1().Deployments(t.c.Namespace).Get(ctx, t.deploymentName(rel), metav1.GetOptions{})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stopping replicas of release %s: %w", rel, err)
		}
		spec := 1
		if d.Spec.Replicas != nil {
			spec = int(*d.Spec.Replicas)
		}
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: releaseSelector(t.b.App, rel)})
		if err != nil {
			return fmt.Errorf("stopping replicas of release %s: %w", rel, err)
		}
		live, keep := 0, 0
		for i := range list.Items {
			p := &list.Items[i]
			if p.DeletionTimestamp != nil {
				continue
			}
			live++
			if !stopping[p.Name] && p.Annotations[deletionCost] != "-1000" {
				keep++
			}
		}
		notCreated := max(spec-live, 0)
		for _, i := range pending[rel] {
			if i >= live && i < spec { // a pending replica still counted by the Deployment
				notCreated--
			}
		}
		keep += max(notCreated, 0)
		if keep != spec {
			if err := t.c.ScaleRelease(ctx, t.b.App, rel, keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// router says how traffic is split: "service" (blue-green selector), "route" (a canary's
// HTTPRoute weights) or "replicas" (the replica counts: rolling, and a canary without a
// Gateway).
func (t *releaseTarget) router() string {
	switch {
	case t.b.Strategy == rollout.BlueGreen:
		return "service"
	case t.b.Strategy == rollout.Canary && t.b.find("HTTPRoute", "") != nil:
		return "route"
	}
	return "replicas"
}

// SetWeights points the Service at the release with all the traffic (blue-green), or sets the
// HTTPRoute's weights of the release being rolled out and the other one; replica-weighted
// canaries only record the weights.
func (t *releaseTarget) SetWeights(ctx context.Context, w map[string]int) error {
	var err error
	switch t.router() {
	case "service":
		err = t.c.SetTraffic(ctx, t.b, heaviest(w), "", 0, t.force)
	case "route":
		stable, canary, cw := split(w, t.b.Release)
		err = t.c.SetTraffic(ctx, t.b, stable, canary, cw, t.force)
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.weights = maps.Clone(w)
	t.mu.Unlock()
	return nil
}

// heaviest is the release with the most weight (the first by name on a tie).
func heaviest(w map[string]int) string {
	top := ""
	for rel, v := range w {
		if top == "" || v > w[top] || (v == w[top] && rel < top) {
			top = rel
		}
	}
	return top
}

// split reads weights as SetTraffic's arguments for the rollout of release: the release
// keeping the rest, and release with its weight; all to one release gives canary "".
func split(w map[string]int, release string) (stable, canary string, weight int) {
	for rel, v := range w {
		if rel != release && v > 0 {
			stable = rel
		}
	}
	switch cw := w[release]; {
	case stable == "":
		return release, "", 0
	case cw == 0:
		return stable, "", 0
	default:
		return stable, release, cw
	}
}

// keepRouting makes the rollout's Service (blue-green) and HTTPRoute route as w, so that
// applying them again while a rollout runs does not move traffic.
func keepRouting(b *Bundle, release string, w map[string]int) {
	for _, u := range b.Objects {
		switch {
		case u.GetKind() == "Service" && u.GetName() == b.App && b.Strategy == rollout.BlueGreen:
			_ = unstructured.SetNestedField(u.Object, heaviest(w), "spec", "selector", LabelRelease)
		case u.GetKind() == "HTTPRoute" && b.Strategy == rollout.Canary:
			stable, canary, cw := split(w, release)
			setRouteBackends(u, b.App, stable, canary, cw)
		}
	}
}

// Weights reads the traffic split back from the Service or the HTTPRoute.
func (t *releaseTarget) Weights(ctx context.Context) (map[string]int, error) {
	switch t.router() {
	case "service":
		svc, err := t.c.Core.CoreV1().Services(t.c.Namespace).Get(ctx, t.b.App, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading Service %s: %w", t.b.App, err)
		}
		if rel := svc.Spec.Selector[LabelRelease]; rel != "" {
			return map[string]int{rel: 100}, nil
		}
		return map[string]int{}, nil
	case "route":
		route := t.b.find("HTTPRoute", "")
		u, err := t.c.Dynamic.Resource(httpRouteGVR).Namespace(t.c.Namespace).Get(ctx, route.GetName(), metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading HTTPRoute %s: %w", route.GetName(), err)
		}
		return liveWeights(u, t.b.App), nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.weights), nil
}

// liveWeights reads the weight of each release from the first rule's backendRefs.
func liveWeights(u *unstructured.Unstructured, app string) map[string]int {
	out := map[string]int{}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	if len(rules) == 0 {
		return out
	}
	rule, _ := rules[0].(map[string]any)
	refs, _, _ := unstructured.NestedSlice(rule, "backendRefs")
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "name")
		w, _, _ := unstructured.NestedInt64(m, "weight")
		if rel, ok := strings.CutPrefix(name, app+"-"); ok && w > 0 {
			out[rel] = int(w)
		}
	}
	return out
}

// Metrics reads the release's request metrics when a source is set.
func (t *releaseTarget) Metrics(ctx context.Context, release string) (rollout.Metrics, error) {
	if t.metrics == nil {
		return rollout.Metrics{}, fmt.Errorf("%w on the cluster: set [deploy.canary] prometheus_url", rollout.ErrNoMetrics)
	}
	return t.metrics(ctx, release)
}
