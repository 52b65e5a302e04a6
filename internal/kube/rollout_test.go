package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
)

// TestRollingDeployThenBrokenReleaseRollsBack: a rolling release is a Deployment APP-RELEASE
// driven by the engine, whose Service selects the pods of every release; a new release that
// never becomes ready is diagnosed and rolled back through the engine, the serving release
// keeping all its replicas.
func TestRollingDeployThenBrokenReleaseRollsBack(t *testing.T) {
	c := newCluster(t)
	p := appPlan("roll", "rolling")
	v1 := c.render(t, p, Options{Image: image("a1")})
	if err := c.Deploy(ctxFor(t, time.Minute), v1, DeployOptions{Replicas: 3, Prune: true, Progress: logProgress(t)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 10*time.Second), "roll-"+v1.Release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Health(ctxFor(t, 5*time.Second), "roll", v1.Release); h.Ready != 3 || d.Spec.Template.Spec.Containers[0].Image != image("a1") {
		t.Fatalf("after deploy: %d ready with image %s, want 3 with %s", h.Ready, d.Spec.Template.Spec.Containers[0].Image, image("a1"))
	}
	if mf := d.ManagedFields; len(mf) == 0 || !hasManager(mf, FieldManager, metav1.ManagedFieldsOperationApply) {
		t.Errorf("the Deployment is not server-side applied by %q: %+v", FieldManager, mf)
	}
	if sel := d.Spec.Selector.MatchLabels; sel[LabelRelease] != v1.Release {
		t.Errorf("the release's Deployment selects %v: it must select its own release's pods only", sel)
	}
	svc, err := c.Core.CoreV1().Services(c.Namespace).Get(ctxFor(t, 5*time.Second), "roll", metav1.GetOptions{})
	if err != nil || svc.Spec.Selector[LabelRelease] != "" {
		t.Fatalf("the rolling Service must select the pods of every release: %v %v", svc.Spec.Selector, err)
	}
	waitEndpoints(t, c, "roll", v1.Release, 3)

	// v2 can never schedule: the engine diagnoses it and rolls back, v1 keeps its 3 replicas.
	v2 := c.render(t, p, Options{Image: image("b2"), NodeSelector: unschedulable})
	err = c.Deploy(ctxFor(t, 8*time.Second), v2, DeployOptions{Replicas: 3, Progress: logProgress(t)})
	t.Logf("the failed deploy said:\n%v", err)
	if err == nil || !strings.Contains(err.Error(), "unschedulable") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("deploying an unschedulable release: got %v, want the diagnosis and the rollback", err)
	}
	h, _ := c.Health(ctxFor(t, 5*time.Second), "roll", v1.Release)
	d2, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "roll-"+v2.Release, metav1.GetOptions{})
	if h.Ready != 3 || d2 == nil || d2.Spec.Replicas == nil || *d2.Spec.Replicas != 0 {
		t.Errorf("after the rollback: v1 has %d ready pods (want 3), v2 replicas %v (want 0)", h.Ready, d2.Spec.Replicas)
	}
	waitEndpoints(t, c, "roll", v1.Release, 3)
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "roll")
	if st.Active != v1.Release || st.Failed != v2.Release || st.Candidate != "" {
		t.Errorf("state: active %q failed %q candidate %q, want %q and %q", st.Active, st.Failed, st.Candidate, v1.Release, v2.Release)
	}
}

// TestRollingRollbackReturnsToThePreviousRelease deploys v1 then v2 with the rolling strategy:
// v1's Deployment stays, scaled to zero; rollback rolls v1 out again through the engine, and a
// second rollback returns to v2.
func TestRollingRollbackReturnsToThePreviousRelease(t *testing.T) {
	c := newCluster(t)
	p := appPlan("rb", "rolling")
	opts := DeployOptions{Replicas: 3, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
	v1 := c.render(t, p, Options{Image: image("a1"), MaxReplicas: 6})
	v2 := c.render(t, p, Options{Image: image("b2"), CPULimit: "2", MaxReplicas: 6})
	for _, b := range []*Bundle{v1, v2} {
		if err := c.Deploy(ctxFor(t, time.Minute), b, opts); err != nil {
			t.Fatal(err)
		}
	}
	live := func(want, other *Bundle) {
		t.Helper()
		d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 10*time.Second), "rb-"+want.Release, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tpl := d.Spec.Template
		wantImage, _, _ := unstructured.NestedSlice(want.Deployment().Object, "spec", "template", "spec", "containers")
		img := wantImage[0].(map[string]any)["image"]
		if h, _ := c.Health(ctxFor(t, 5*time.Second), "rb", want.Release); tpl.Spec.Containers[0].Image != img || h.Ready != 3 {
			t.Errorf("release %s runs %s with %d ready, want %s with 3", want.Release, tpl.Spec.Containers[0].Image, h.Ready, img)
		}
		if lim := tpl.Spec.Containers[0].Resources.Limits.Cpu().String(); want == v1 && lim != "1" {
			t.Errorf("after the rollback the CPU limit is %s, want v1's 1", lim)
		}
		o, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 10*time.Second), "rb-"+other.Release, metav1.GetOptions{})
		if err != nil || o.Spec.Replicas == nil || *o.Spec.Replicas != 0 {
			t.Errorf("the other release %s is not kept at zero replicas for rollback: %v", other.Release, err)
		}
		waitEndpoints(t, c, "rb", want.Release, 3)
		h, err := c.Core.AutoscalingV2().HorizontalPodAutoscalers(c.Namespace).Get(ctxFor(t, 5*time.Second), "rb", metav1.GetOptions{})
		if err != nil || h.Spec.ScaleTargetRef.Name != "rb-"+want.Release {
			t.Errorf("the autoscaler does not aim at the serving release %s: %v %v", want.Release, h.Spec.ScaleTargetRef, err)
		}
	}
	live(v2, v1)
	if err := c.Rollback(ctxFor(t, time.Minute), v2, opts); err != nil {
		t.Fatal(err)
	}
	live(v1, v2)
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "rb")
	if st.Active != v1.Release || st.Previous != v2.Release || st.Phase != "rolled-back" || st.Candidate != "" {
		t.Errorf("state after the rollback: active %q previous %q phase %q candidate %q, want %q, %q, rolled-back", st.Active, st.Previous, st.Phase, st.Candidate, v1.Release, v2.Release)
	}
	// A second rollback undoes the first.
	if err := c.Rollback(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	live(v2, v1)
}

// TestPodChangesAreNewReleases changes only the env (same image, same config) of a blue-green
// app: it is a new release beside the serving one, gated before the Service moves, and the
// serving release's pods are left as they were. A rolling app whose secrets alone change rolls
// its pods.
func TestPodChangesAreNewReleases(t *testing.T) {
	c := newCluster(t)
	opts := DeployOptions{Replicas: 3, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
	p := appPlan("env", "blue-green")
	v1 := c.render(t, p, Options{Image: image("a1")})
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	p.Env = map[string]string{"LOG_LEVEL": "debug"}
	v2 := c.render(t, p, Options{Image: image("a1")})
	if v2.Release == v1.Release {
		t.Fatalf("an env change kept release %s", v1.Release)
	}
	if err := c.Deploy(ctxFor(t, time.Minute), v2, opts); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, "env", v2.Release, 3)
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "env")
	if st.Active != v2.Release || st.Previous != v1.Release {
		t.Errorf("state: active %q previous %q, want %q and %q", st.Active, st.Previous, v2.Release, v1.Release)
	}
	d1, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "env-"+v1.Release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d1.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "LOG_LEVEL" && e.Value != "info" {
			t.Errorf("the serving release's pods were changed in place: LOG_LEVEL=%s", e.Value)
		}
	}

	// Rolling: the same image with other secret values gives pods that read the new Secret.
	rp := appPlan("sec", "rolling")
	rp.SecretsFile = "secrets.env"
	s1 := c.render(t, rp, Options{Image: image("a1"), Secrets: map[string]string{"TOKEN": "one"}})
	if err := c.Deploy(ctxFor(t, time.Minute), s1, opts); err != nil {
		t.Fatal(err)
	}
	before := podNames(t, c, "sec")
	s2 := c.render(t, rp, Options{Image: image("a1"), Secrets: map[string]string{"TOKEN": "two"}})
	if err := c.Deploy(ctxFor(t, time.Minute), s2, opts); err != nil {
		t.Fatal(err)
	}
	rss, err := c.Core.AppsV1().ReplicaSets(c.Namespace).List(ctxFor(t, 5*time.Second), metav1.ListOptions{LabelSelector: LabelName + "=sec"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 2 {
		t.Errorf("a secrets change made %d ReplicaSet(s), want 2: the pods did not roll", len(rss.Items))
	}
	testsvc.Eventually(t, 30*time.Second, "the pods from before the secrets change to go", func() error {
		for n := range podNames(t, c, "sec") {
			if before[n] {
				return fmt.Errorf("pod %s is still running", n)
			}
		}
		return nil
	})
}

// podNames lists the app's pods that are not terminating.
func podNames(t *testing.T, c *cluster, app string) map[string]bool {
	t.Helper()
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctxFor(t, 5*time.Second), metav1.ListOptions{LabelSelector: LabelName + "=" + app})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = true
		}
	}
	return out
}

// TestAutoscalerWaitsForTheCanary rolls a replica-weighted canary out under an autoscaler whose
// minReplicas is the full count: while the canary holds at its first step no autoscaler aims
// at either release (it would scale the canary to full size, or the stable one back up), and
// once promoted the autoscaler scales the canary.
func TestAutoscalerWaitsForTheCanary(t *testing.T) {
	c := newCluster(t)
	p := appPlan("hpa", "canary")
	p.Deploy.Replicas = 4
	o := Options{MaxReplicas: 8}
	opts := DeployOptions{Replicas: 4, Steps: []int{25, 100}, Pause: 100 * time.Millisecond, Prune: true, Progress: logProgress(t),
		MinRequests: 10, MaxErrorRate: 0.05, MaxLatencyRatio: 2,
		Metrics: func(context.Context, string) (rollout.Metrics, error) { return rollout.Metrics{}, nil }}
	o.Image = image("a1")
	v1 := c.render(t, p, o)
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	target := func() string {
		t.Helper()
		h, err := c.Core.AutoscalingV2().HorizontalPodAutoscalers(c.Namespace).Get(ctxFor(t, 5*time.Second), "hpa", metav1.GetOptions{})
		if isNotFound(err) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return h.Spec.ScaleTargetRef.Name
	}
	if got := target(); got != "hpa-"+v1.Release {
		t.Fatalf("after the first deploy the autoscaler aims at %q, want hpa-%s", got, v1.Release)
	}

	o.Image = image("b2")
	v2 := c.render(t, p, o)
	done := make(chan error, 1)
	go func() { done <- c.Deploy(ctxFor(t, time.Minute), v2, opts) }()
	ok, err := c.waitState(ctxFor(t, 30*time.Second), "hpa", 0, func(s *State) bool { return s.Candidate == v2.Release && s.CanaryWeight == "25" })
	if !ok {
		t.Fatalf("the canary never held at 25%%: %v", err)
	}
	if got := target(); got != pausedTarget("hpa") {
		t.Errorf("while the canary holds at 25%% the autoscaler aims at %q, want it paused (minReplicas %d would resize either release)", got, p.Deploy.Replicas)
	}
	testsvc.Eventually(t, 10*time.Second, "the canary at 25% of 4 replicas to have 1 pod", func() error {
		if h, _ := c.Health(ctxFor(t, 5*time.Second), "hpa", v2.Release); h.Total != 1 {
			return fmt.Errorf("%d pods", h.Total)
		}
		return nil
	})
	if err := c.Request(ctxFor(t, 5*time.Second), "hpa", RequestPromote); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := target(); got != "hpa-"+v2.Release {
		t.Errorf("after the rollout the autoscaler aims at %q, want hpa-%s", got, v2.Release)
	}
	// Still in the app's inventory: a spec without max_replicas prunes it.
	o.MaxReplicas, o.Image = 0, image("c3")
	opts.Steps = []int{100}
	if err := c.Deploy(ctxFor(t, time.Minute), c.render(t, p, o), opts); err != nil {
		t.Fatal(err)
	}
	if got := target(); got != "" {
		t.Errorf("the autoscaler is left aiming at %q after max_replicas was dropped", got)
	}
}

func hasManager(mf []metav1.ManagedFieldsEntry, name string, op metav1.ManagedFieldsOperationType) bool {
	for _, m := range mf {
		if m.Manager == name && m.Operation == op {
			return true
		}
	}
	return false
}

func TestBlueGreenMovesSelectorOnlyWhenNewPodsAreReady(t *testing.T) {
	c := newCluster(t)
	p := appPlan("bg", "blue-green")
	v1 := c.render(t, p, Options{Image: image("c1")})
	opts := DeployOptions{Replicas: 3, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, "bg", v1.Release, 3)

	// Watch the Service: when its selector names v2, every v2 pod must already be Ready.
	v2 := c.render(t, p, Options{Image: image("d2")})
	ctx := ctxFor(t, time.Minute)
	w, err := c.Core.CoreV1().Services(c.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=bg"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	var readyAtSwitch = -1
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			svc, ok := ev.Object.(*corev1.Service)
			if ok && svc.Spec.Selector[LabelRelease] == v2.Release {
				h, _ := c.Health(context.Background(), "bg", v2.Release)
				mu.Lock()
				readyAtSwitch = h.Ready
				mu.Unlock()
				return
			}
		}
	}()
	if err := c.Deploy(ctx, v2, opts); err != nil {
		t.Fatal(err)
	}
	<-done
	mu.Lock()
	if readyAtSwitch != 3 {
		t.Errorf("when the selector moved to %s, %d of its pods were Ready, want 3", v2.Release, readyAtSwitch)
	}
	mu.Unlock()
	waitEndpoints(t, c, "bg", v2.Release, 3)
	if h, _ := c.Health(ctxFor(t, 5*time.Second), "bg", v1.Release); h.Ready != 3 {
		t.Errorf("the previous release has %d ready pods inside the rollback window, want 3", h.Ready)
	}

	// A broken v3 never gets traffic.
	v3 := c.render(t, p, Options{Image: image("e3"), NodeSelector: unschedulable})
	err = c.Deploy(ctxFor(t, 8*time.Second), v3, opts)
	if err == nil || !strings.Contains(err.Error(), "unschedulable") {
		t.Fatalf("deploying an unschedulable release: got %v, want a diagnosis naming unschedulable pods", err)
	}
	svc, _ := c.Core.CoreV1().Services(c.Namespace).Get(ctxFor(t, 5*time.Second), "bg", metav1.GetOptions{})
	if got := svc.Spec.Selector[LabelRelease]; got != v2.Release {
		t.Errorf("after a failed release the Service selects %q, want %q", got, v2.Release)
	}

	// Rollback moves traffic back to v1, then promote ends the window and scales v2 down.
	if err := c.Rollback(ctxFor(t, 30*time.Second), v2, opts); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, "bg", v1.Release, 3)
	if err := c.Promote(ctxFor(t, 30*time.Second), "bg", opts); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "bg-"+v2.Release, metav1.GetOptions{})
	if d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
		t.Errorf("after promote the previous release %s should be scaled to 0: %+v", v2.Release, d.Spec.Replicas)
	}
}

// waitEndpoints waits until the Service's EndpointSlices list exactly want ready endpoints, all
// pods of release.
func waitEndpoints(t *testing.T, c *cluster, svc, release string, want int) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := c.Core.DiscoveryV1().EndpointSlices(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
		if err != nil {
			return false, err
		}
		pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: releaseSelector(svc, release)})
		if err != nil {
			return false, err
		}
		ours := map[string]bool{}
		for _, p := range pods.Items {
			ours[p.Name] = true
		}
		n, foreign := 0, 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready == nil || !*e.Conditions.Ready {
					continue
				}
				if e.TargetRef != nil && ours[e.TargetRef.Name] {
					n++
				} else {
					foreign++
				}
			}
		}
		last = fmt.Sprintf("%d of release %s and %d others", n, release, foreign)
		return n == want && foreign == 0, nil
	})
	if err != nil {
		t.Fatalf("EndpointSlices of %s never listed exactly %d ready pods of %s (last: %s)", svc, want, release, last)
	}
}

func TestCanaryWeightsFollowStepsOnHTTPRoute(t *testing.T) {
	c := newCluster(t)
	p := appPlan("cn", "canary")
	o := Options{Host: "cn.example.com", GatewayAPI: true, Gateway: "gw"}
	o.Image = image("f1")
	v1 := c.render(t, p, o)
	opts := DeployOptions{Replicas: 4, Steps: []int{25, 50, 100}, Prune: true, Progress: logProgress(t)}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	o.Image = image("a2")
	v2 := c.render(t, p, o)
	ctx := ctxFor(t, time.Minute)
	weights := watchRoute(t, c, ctx, "cn")
	if err := c.Deploy(ctx, v2, opts); err != nil {
		t.Fatal(err)
	}
	// The final state is all traffic to v2; the watch saw each step.
	seen, err := weights("cn-" + v2.Release + "=100")
	want := []string{
		"cn-" + v1.Release + "=100",
		"cn-" + v1.Release + "=75,cn-" + v2.Release + "=25",
		"cn-" + v1.Release + "=50,cn-" + v2.Release + "=50",
		"cn-" + v2.Release + "=100",
	}
	if err != nil || !subsequence(seen, want) {
		t.Errorf("HTTPRoute weights went %v, want the steps %v in order", seen, want)
	}
}

// watchRoute records each new set of backend weights of the HTTPRoute name; the function it
// returns waits until the weights are final, stops the watch and returns what it saw.
func watchRoute(t *testing.T, c *cluster, ctx context.Context, name string) func(final string) ([]string, error) {
	t.Helper()
	w, err := c.Dynamic.Resource(httpRouteGVR).Namespace(c.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	go func() {
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type != watch.Deleted {
				mu.Lock()
				seen = appendNew(seen, routeWeights(u))
				mu.Unlock()
			}
		}
	}()
	return func(final string) ([]string, error) {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) > 0 && seen[len(seen)-1] == final, nil
		})
		w.Stop()
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...), err
	}
}

func routeWeights(u *unstructured.Unstructured) string {
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	var parts []string
	for _, r := range rules {
		refs, _, _ := unstructured.NestedSlice(r.(map[string]any), "backendRefs")
		for _, ref := range refs {
			m := ref.(map[string]any)
			w, _, _ := unstructured.NestedInt64(m, "weight")
			parts = append(parts, m["name"].(string)+"="+strconv.Itoa(int(w)))
		}
	}
	return strings.Join(parts, ",")
}

func appendNew(s []string, v string) []string {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	return append(s, v)
}

func subsequence(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestCanaryReplicaRatioAndBrokenCanaryAborts(t *testing.T) {
	c := newCluster(t)
	p := appPlan("rr", "canary")
	v1 := c.render(t, p, Options{Image: image("b1")})
	opts := DeployOptions{Replicas: 4, Steps: []int{25, 50, 100}, Prune: true, Progress: logProgress(t)}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	v2 := c.render(t, p, Options{Image: image("c2")})
	ctx := ctxFor(t, time.Minute)
	w, err := c.Core.AppsV1().Deployments(c.Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: LabelName + "=rr"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ratios := []string{}
	spec := map[string]int32{}
	go func() {
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok || d.Spec.Replicas == nil {
				continue
			}
			mu.Lock()
			spec[d.Name] = *d.Spec.Replicas
			ratios = appendNew(ratios, strconv.Itoa(int(spec["rr-"+v1.Release]))+":"+strconv.Itoa(int(spec["rr-"+v2.Release])))
			mu.Unlock()
		}
	}()
	if err := c.Deploy(ctx, v2, opts); err != nil {
		t.Fatal(err)
	}
	_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(ratios) > 0 && ratios[len(ratios)-1] == "0:4", nil
	})
	w.Stop()
	mu.Lock()
	if want := []string{"4:1", "3:1", "3:2", "2:2", "2:4", "0:4"}; !subsequence(ratios, want) {
		t.Errorf("stable:canary replicas went %v, want %v in order", ratios, want)
	}
	mu.Unlock()

	// A canary that never becomes ready is aborted: all replicas back on v2.
	v3 := c.render(t, p, Options{Image: image("d3"), NodeSelector: unschedulable})
	err = c.Deploy(ctxFor(t, 8*time.Second), v3, opts)
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("broken canary: got %v, want a rollback", err)
	}
	h, _ := c.Health(ctxFor(t, 5*time.Second), "rr", v2.Release)
	d3, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "rr-"+v3.Release, metav1.GetOptions{})
	if h.Ready != 4 || d3 == nil || d3.Spec.Replicas == nil || *d3.Spec.Replicas != 0 {
		t.Errorf("after the abort: stable has %d ready pods (want 4), canary replicas %v (want 0)", h.Ready, d3.Spec.Replicas)
	}

	// Without a router every ready pod serves: a rollback to v1 scales v2 down.
	if err := c.Rollback(ctxFor(t, 30*time.Second), v2, opts); err != nil {
		t.Fatal(err)
	}
	h1, _ := c.Health(ctxFor(t, 5*time.Second), "rr", v1.Release)
	d2, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "rr-"+v2.Release, metav1.GetOptions{})
	if h1.Ready != 4 || d2 == nil || d2.Spec.Replicas == nil || *d2.Spec.Replicas != 0 {
		t.Errorf("after the rollback: v1 has %d ready pods (want 4), v2 replicas %v (want 0)", h1.Ready, d2.Spec.Replicas)
	}
}

// killAfter is a Progress that cancels the deploy's context once a line starting with prefix
// is reported: a deploy killed half-way, at a known point.
func killAfter(t *testing.T, prefix string, cancel context.CancelFunc) Progress {
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Logf("%s", line)
		if strings.HasPrefix(line, prefix) {
			cancel()
		}
	}
}

// TestKilledDeployConvergesOrAborts kills a deploy half-way (blue-green once its release is
// applied, rolling once it has started draining the serving release): abort then rolls it back
// through the engine, and a killed deploy run again finishes.
func TestKilledDeployConvergesOrAborts(t *testing.T) {
	c := newCluster(t)
	for _, tc := range []struct{ strategy, app, killAt string }{
		{"blue-green", "kill", "applied Deployment/"},
		{"rolling", "killr", "draining one replica of"},
		{"recreate", "killc", "starting 2 replica(s) of"}, // v1 gone, v2 starting
	} {
		app := tc.app
		p := appPlan(app, tc.strategy)
		v1 := c.render(t, p, Options{Image: image("a1")})
		opts := DeployOptions{Replicas: 2, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
		if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
			t.Fatal(err)
		}
		v2 := c.render(t, p, Options{Image: image("b2")})
		var w *podOverlap
		if tc.strategy == "recreate" {
			w = watchOverlap(t, c, app) // through the kills, the abort and the rerun
		}
		kill := func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			o := opts
			o.Progress = killAfter(t, tc.killAt, cancel)
			if err := c.Deploy(ctx, v2, o); err == nil {
				t.Fatalf("%s: the killed deploy reported success", tc.strategy)
			}
			st, _ := c.ReadState(ctxFor(t, 5*time.Second), app)
			if st.Candidate != v2.Release || st.Active != v1.Release {
				t.Fatalf("%s: after the kill: candidate %q active %q, want %q and %q", tc.strategy, st.Candidate, st.Active, v2.Release, v1.Release)
			}
		}

		kill()
		if err := c.Abort(ctxFor(t, 30*time.Second), v2, opts); err != nil {
			t.Fatal(err)
		}
		st, _ := c.ReadState(ctxFor(t, 5*time.Second), app)
		d, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), app+"-"+v2.Release, metav1.GetOptions{})
		if st.Candidate != "" || st.Active != v1.Release || d == nil || *d.Spec.Replicas != 0 {
			t.Errorf("%s: after abort: candidate %q active %q, candidate replicas %v", tc.strategy, st.Candidate, st.Active, d.Spec.Replicas)
		}
		waitEndpoints(t, c, app, v1.Release, 2)

		kill()
		if err := c.Deploy(ctxFor(t, time.Minute), v2, opts); err != nil {
			t.Fatalf("%s: running the killed deploy again: %v", tc.strategy, err)
		}
		waitEndpoints(t, c, app, v2.Release, 2)
		st, _ = c.ReadState(ctxFor(t, 5*time.Second), app)
		if st.Active != v2.Release || st.Previous != v1.Release || st.Candidate != "" {
			t.Errorf("%s: after re-running: active %q previous %q candidate %q", tc.strategy, st.Active, st.Previous, st.Candidate)
		}
		if w != nil {
			w.check(t, "recreate killed, aborted and run again", v1.Release, v2.Release)
		}
	}
}

func TestPodSecurityRejectionIsDiagnosed(t *testing.T) {
	c := newCluster(t)
	b := c.render(t, appPlan("psa", "rolling"), Options{Image: image("a1")})
	// A hand-edited release that breaks the restricted profile the namespace enforces.
	_ = unstructured.SetNestedField(b.Deployment().Object, true, "spec", "template", "spec", "hostNetwork")
	var mu sync.Mutex
	var warnings []string
	c.OnWarning = func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() }
	err := c.Deploy(ctxFor(t, 6*time.Second), b, DeployOptions{Replicas: 1, Progress: logProgress(t)})
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) == 0 || !strings.Contains(warnings[0], "PodSecurity") {
		t.Errorf("the API server's pod security warning did not reach OnWarning: %q", warnings)
	}
	if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") || !strings.Contains(err.Error(), "cannot create pods") {
		t.Fatalf("got %v, want a diagnosis quoting the Pod Security rejection", err)
	}
}

// TestCanaryAnalysisUsesTheEngine feeds request metrics in which the canary answers 5xx: the
// step is judged by rollout.Judge, as on the local target, and the canary is rolled back.
func TestCanaryAnalysisUsesTheEngine(t *testing.T) {
	c := newCluster(t)
	p := appPlan("an", "canary")
	v1 := c.render(t, p, Options{Image: image("a1")})
	opts := DeployOptions{Replicas: 2, Steps: []int{50, 100}, Prune: true, Progress: logProgress(t),
		MinRequests: 10, MaxErrorRate: 0.05, MaxLatencyRatio: 2}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	v2 := c.render(t, p, Options{Image: image("b2")})
	var mu sync.Mutex
	reads := map[string]int64{}
	opts.Metrics = func(_ context.Context, release string) (rollout.Metrics, error) {
		mu.Lock()
		defer mu.Unlock()
		reads[release] += 100 // 100 more requests at every read; the canary fails half of them
		m := rollout.Metrics{Requests: reads[release], Bounds: []time.Duration{time.Millisecond}, Counts: []int64{reads[release]}}
		if release == v2.Release {
			m.Errors = reads[release] / 2
		}
		return m, nil
	}
	err := c.Deploy(ctxFor(t, time.Minute), v2, opts)
	if err == nil || !strings.Contains(err.Error(), "canary analysis failed: canary 5xx rate 50.0% is above the 5.0% allowed") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("deploying a canary that answers 5xx: %v, want the engine's verdict and a rollback", err)
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "an")
	h, _ := c.Health(ctxFor(t, 5*time.Second), "an", v1.Release)
	d2, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "an-"+v2.Release, metav1.GetOptions{})
	if st.Active != v1.Release || st.Failed != v2.Release || h.Ready != 2 || d2 == nil || *d2.Spec.Replicas != 0 {
		t.Errorf("after the failed analysis: active %q failed %q, stable ready %d, canary replicas %v", st.Active, st.Failed, h.Ready, d2.Spec.Replicas)
	}
}

// TestRunningCanaryTakesPromoteAndAbort runs canaries that hold for lack of traffic (the
// metrics never move) and asks them, as `pyship promote` and `pyship abort` in another process
// do, to promote and to roll back.
func TestRunningCanaryTakesPromoteAndAbort(t *testing.T) {
	c := newCluster(t)
	p := appPlan("req", "canary")
	v1 := c.render(t, p, Options{Image: image("a1")})
	opts := DeployOptions{Replicas: 2, Steps: []int{50, 100}, Pause: 100 * time.Millisecond, Prune: true, Progress: logProgress(t),
		MinRequests: 10, MaxErrorRate: 0.05, MaxLatencyRatio: 2,
		Metrics: func(context.Context, string) (rollout.Metrics, error) { return rollout.Metrics{}, nil }}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	// held runs the deploy of b in the background until its canary holds at 50%.
	held := func(b *Bundle) <-chan error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- c.Deploy(ctxFor(t, time.Minute), b, opts) }()
		ok, err := c.waitState(ctxFor(t, 30*time.Second), "req", 0, func(s *State) bool { return s.Candidate == b.Release && s.CanaryWeight == "50" })
		if !ok {
			t.Fatalf("the canary %s never held at 50%%: %v", b.Release, err)
		}
		return done
	}

	v2 := c.render(t, p, Options{Image: image("b2")})
	done := held(v2)
	// status shows the running canary's verdict.
	testsvc.Eventually(t, 30*time.Second, "status to show the held canary's verdict", func() error {
		st, err := c.Status(ctxFor(t, 5*time.Second), "req")
		if err != nil {
			return err
		}
		if st.Analysis == nil || st.Analysis.Outcome != rollout.Inconclusive || !strings.Contains(st.Analysis.Reason, "not enough traffic") {
			return fmt.Errorf("analysis %+v", st.Analysis)
		}
		return nil
	})
	if err := c.Request(ctxFor(t, 5*time.Second), "req", RequestPromote); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the promoted canary: %v", err)
	}
	if st, _ := c.ReadState(ctxFor(t, 5*time.Second), "req"); st.Active != v2.Release || st.Request != "" {
		t.Errorf("after promote: active %q (want %q), request %q left", st.Active, v2.Release, st.Request)
	}

	v3 := c.render(t, p, Options{Image: image("c3")})
	done = held(v3)
	if err := c.Abort(ctxFor(t, 30*time.Second), v3, opts); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "aborted by the user") {
		t.Errorf("the aborted deploy returned %v, want the abort as its reason", err)
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "req")
	d3, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), "req-"+v3.Release, metav1.GetOptions{})
	if st.Active != v2.Release || st.Candidate != "" || d3 == nil || *d3.Spec.Replicas != 0 {
		t.Errorf("after abort: active %q candidate %q, v3 replicas %v", st.Active, st.Candidate, d3.Spec.Replicas)
	}
}

// TestKilledCanaryResumesAtItsStep kills a canary deploy as it moves to its second step; run
// again, it resumes there: the HTTPRoute never goes back to the first step's weights.
func TestKilledCanaryResumesAtItsStep(t *testing.T) {
	c := newCluster(t)
	p := appPlan("res", "canary")
	o := Options{Host: "res.example.com", GatewayAPI: true, Gateway: "gw", Image: image("a1")}
	v1 := c.render(t, p, o)
	opts := DeployOptions{Replicas: 2, Steps: []int{25, 50, 100}, Prune: true, Progress: logProgress(t)}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	o.Image = image("b2")
	v2 := c.render(t, p, o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	killed := opts
	killed.Progress = killAfter(t, "canary step 2:", cancel)
	err := c.Deploy(ctx, v2, killed)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("the killed deploy: %v, want it interrupted", err)
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "res")
	if st.Candidate != v2.Release || st.RolloutJSON == nil {
		t.Fatalf("after the kill: candidate %q, saved rollout %d bytes; want %q and a saved rollout", st.Candidate, len(st.RolloutJSON), v2.Release)
	}

	wctx := ctxFor(t, time.Minute)
	weights := watchRoute(t, c, wctx, "res")
	if err := c.Deploy(wctx, v2, opts); err != nil {
		t.Fatalf("running the killed deploy again: %v", err)
	}
	seen, err := weights("res-" + v2.Release + "=100")
	for i, s := range seen {
		if i == 0 {
			continue // the route as the kill left it
		}
		if !strings.Contains(s, "res-"+v2.Release+"=") || strings.Contains(s, "res-"+v2.Release+"=25") {
			t.Errorf("the resumed canary took traffic back from %s: weights %v", v2.Release, seen)
		}
	}
	if err != nil {
		t.Errorf("the resumed canary never gave all traffic to %s: weights %v", v2.Release, seen)
	}
	st, _ = c.ReadState(ctxFor(t, 5*time.Second), "res")
	if st.Active != v2.Release || st.Candidate != "" || st.RolloutJSON != nil {
		t.Errorf("after the resumed deploy: active %q candidate %q, saved rollout %d bytes", st.Active, st.Candidate, len(st.RolloutJSON))
	}
}
