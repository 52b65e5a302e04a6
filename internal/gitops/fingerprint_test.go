package gitops

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// TestFingerprintFollowsContentNotStatus, against the real kube-apiserver: a saved plan stays
// applicable through status writes and the Deployment controller's own metadata (its revision
// annotation), which move resourceVersions; a spec change by another field manager, or a
// Secret's data changed (an object without a generation), make it stale, naming who changed
// what.
func TestFingerprintFollowsContentNotStatus(t *testing.T) {
	kc := testsvc.Kubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	ns := "gitops-fp-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	c.Namespace = ns
	b, err := kube.Render(testPlan("1.0"), kube.Options{Image: testImage, Namespace: ns, Secrets: map[string]string{"TOKEN": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, b, kube.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	live, err := Fingerprint(ctx, c, b)
	if err != nil {
		t.Fatal(err)
	}
	sp, dn := &SavedPlan{App: "web", Live: live}, b.Deployment().GetName() // the release's Deployment
	if live["Deployment/"+dn].Hash == "" || live["Secret/web-secrets"].Hash == "" || live["Secret/"+kube.ApplySetParentName("web")].Hash == "" {
		t.Fatalf("the fingerprint misses objects: %+v", live)
	}

	deps := c.Core.AppsV1().Deployments(ns)
	before, err := deps.Get(ctx, dn, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A controller's status write, and the Deployment controller's revision annotation.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx, dn, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Status.ObservedGeneration = d.Generation
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: "Settling", Status: corev1.ConditionTrue, Reason: "Test"})
		_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{FieldManager: "test-controller"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Patch(ctx, dn, types.MergePatchType, []byte(`{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"7"}}}`),
		metav1.PatchOptions{FieldManager: "kube-controller-manager"}); err != nil {
		t.Fatal(err)
	}
	after, err := deps.Get(ctx, dn, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion == before.ResourceVersion {
		t.Fatal("the status write did not move the resourceVersion: the test proves nothing")
	}
	now, err := Fingerprint(ctx, c, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.CheckLive("web.plan", now); err != nil {
		t.Errorf("status and the controller's annotation made the plan stale: %v", err)
	}

	// Someone scales the Deployment and edits the Secret: stale, saying who changed what.
	if _, err := deps.Patch(ctx, dn, types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Core.CoreV1().Secrets(ns).Patch(ctx, "web-secrets", types.MergePatchType, []byte(`{"stringData":{"TOKEN":"changed"}}`),
		metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	now, err = Fingerprint(ctx, c, b)
	if err != nil {
		t.Fatal(err)
	}
	err = sp.CheckLive("web.plan", now)
	if err == nil {
		t.Fatal("a spec change by another manager left the plan applicable")
	}
	t.Logf("the stale error: %v", err)
	for _, want := range []string{"Deployment/" + dn + " changed by someone (Update): spec.replicas", "Secret/web-secrets changed by kubectl-edit (Update): data.TOKEN",
		"make a new plan with `pyship plan --out web.plan`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the stale error lacks %q: %v", want, err)
		}
	}
}

// TestLiveObjectStripsOnlyTheControllersFields: a field only a cluster controller owns, in a
// keyed list item too, is left out of the digest; a field another manager shares, or owns
// below it, stays in.
func TestLiveObjectStripsOnlyTheControllersFields(t *testing.T) {
	obj := func(ctrlEnv, image, note string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "resourceVersion": "9", "generation": int64(3),
				"annotations": map[string]any{"note": note},
				"managedFields": []any{
					map[string]any{"manager": "pyship", "operation": "Apply", "fieldsType": "FieldsV1", "time": "2026-12-02T05:00:00Z",
						"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{"f:note": map[string]any{}}},
							"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": map[string]any{
								`k:{"name":"app"}`: map[string]any{".": map[string]any{}, "f:name": map[string]any{}, "f:image": map[string]any{}}}}}}}},
					map[string]any{"manager": "kube-controller-manager", "operation": "Update", "fieldsType": "FieldsV1", "time": "2026-12-02T05:00:01Z",
						"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{".": map[string]any{}}},
							"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": map[string]any{
								`k:{"name":"app"}`: map[string]any{"f:env": map[string]any{`k:{"name":"CTRL"}`: map[string]any{".": map[string]any{}, "f:name": map[string]any{}, "f:value": map[string]any{}}}}}}}}}},
				}},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": image, "env": []any{map[string]any{"name": "CTRL", "value": ctrlEnv}}},
			}}}},
			"status": map[string]any{"observedGeneration": int64(3)},
		}}
	}
	digest := func(u *unstructured.Unstructured) string {
		t.Helper()
		lo, err := liveObject(u)
		if err != nil {
			t.Fatal(err)
		}
		return lo.Hash
	}
	base := digest(obj("a", "img:1", "x"))
	if got := digest(obj("b", "img:1", "x")); got != base {
		t.Error("a value only the controller owns (a keyed list item) changed the digest")
	}
	if got := digest(obj("a", "img:2", "x")); got == base {
		t.Error("pyship's image changed and the digest did not")
	}
	// The controller owns the annotations map itself, pyship a key in it: the key stays in.
	if got := digest(obj("a", "img:1", "y")); got == base {
		t.Error("an annotation pyship owns, in a map the controller owns, was left out")
	}
	u := obj("a", "img:1", "x")
	u.Object["status"] = map[string]any{"observedGeneration": int64(4)}
	u.SetResourceVersion("10")
	if got := digest(u); got != base {
		t.Error("status or the resourceVersion changed the digest")
	}
}
