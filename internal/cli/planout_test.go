package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// TestSavedPlanApply: plan --out saves the change, apply applies exactly it; a plan made stale
// by an out-of-band change, edited by hand, from a newer format or of another app is refused,
// and nothing is applied. --detailed-exitcode on plan and diff: 0, 2 or 1.
func TestSavedPlanApply(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-saved")
	dir := gitOpsProject(t)
	cluster := []string{"--kubeconfig", kc, "-n", c.Namespace}
	planArgs := append([]string{"plan", dir, "--env", "staging", "--target", "kubernetes", "--image", cliImage}, cluster...)
	file := filepath.Join(t.TempDir(), "web.plan")

	code, out, errs := runCLI(t, append(planArgs, "--out", file, "--detailed-exitcode")...)
	if code != 2 || !strings.Contains(out, "=== create Deployment/web-") || !strings.Contains(errs, "saved the plan to "+file) {
		t.Fatalf("plan --out --detailed-exitcode: exit %d, want 2\n%s\n%s", code, out, errs)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the plan file: %v, %v (want mode 0600: it holds Secret values)", fi, err)
	}
	code, _, errs = runCLI(t, "apply", file, "--kubeconfig", kc, "--app", "other")
	if code != ExitUsage || !strings.Contains(errs, `is for the app "web", not "other"`) {
		t.Errorf("apply --app other: exit %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "apply", file, "--kubeconfig", kc)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The active release's Deployment (a release is a Deployment APP-RELEASE).
	active := func() string {
		t.Helper()
		st, err := c.ReadState(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return kube.DeploymentName("web", st.Active)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, active(), metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != cliImage {
		t.Fatalf("after apply: %v", err)
	}
	code, _, errs = runCLI(t, append(planArgs, "--detailed-exitcode")...)
	if code != ExitOK || !strings.Contains(errs, "no changes") {
		t.Errorf("plan --detailed-exitcode after apply: exit %d, want 0\n%s", code, errs)
	}
	code, _, errs = runCLI(t, append([]string{"diff", dir, "--env", "staging", "--image", cliImage, "--memory", "300Mi", "--detailed-exitcode"}, cluster...)...)
	if code != 2 {
		t.Errorf("diff --detailed-exitcode with a change: exit %d, want 2\n%s", code, errs)
	}
	code, _, errs = runCLI(t, append([]string{"diff", dir, "--env", "qa", "--image", cliImage, "--detailed-exitcode"}, cluster...)...)
	if code != ExitFailure || !strings.Contains(errs, `unknown environment "qa"`) {
		t.Errorf("diff --detailed-exitcode with an error: exit %d, want 1\n%s", code, errs)
	}

	// A plan stays applicable through a controller's status writes (which move the
	// resourceVersion), and apply says what it applies.
	fresh := filepath.Join(t.TempDir(), "fresh.plan")
	if code, _, errs := runCLI(t, append(planArgs, "--memory", "300Mi", "--out", fresh)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s", code, errs)
	}
	deps, name := c.Core.AppsV1().Deployments(c.Namespace), active()
	before, err := deps.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: "Checked", Status: corev1.ConditionTrue, Reason: "Test"})
		_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{FieldManager: "test-controller"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d, err := deps.Get(ctx, name, metav1.GetOptions{}); err != nil || d.ResourceVersion == before.ResourceVersion {
		t.Fatalf("the status write did not move the resourceVersion (%v): the test proves nothing", err)
	}
	code, _, errs = runCLI(t, "apply", fresh, "--kubeconfig", kc)
	if code != ExitOK || !strings.Contains(errs, "applying the saved plan "+fresh+": web release") {
		t.Fatalf("apply after a status write: exit %d\n%s", code, errs)
	}
	name = active() // the plan's release
	if d, _ := deps.Get(ctx, name, metav1.GetOptions{}); d.Spec.Template.Spec.Containers[0].Resources.Requests.Memory().String() != "300Mi" {
		t.Error("apply after a status write did not apply the plan")
	}

	// A second plan, made stale by someone scaling the Deployment.
	stale := filepath.Join(t.TempDir(), "stale.plan")
	if code, _, errs := runCLI(t, append(planArgs, "--memory", "400Mi", "--out", stale)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s", code, errs)
	}
	if _, err := deps.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "apply", stale, "--kubeconfig", kc)
	if code != ExitFailure || !strings.Contains(errs, "is stale") || !strings.Contains(errs, "Deployment/"+name+" changed by someone (Update): spec.replicas") ||
		!strings.Contains(errs, "make a new plan with `pyship plan --out "+stale+"`") {
		t.Errorf("apply of a stale plan: exit %d\n%s", code, errs)
	}
	if d, _ := deps.Get(ctx, active(), metav1.GetOptions{}); d.Spec.Template.Spec.Containers[0].Resources.Requests.Memory().String() == "400Mi" {
		t.Error("a stale plan was applied")
	}

	// Edited by hand, or from a newer pyship: refused.
	b, _ := os.ReadFile(stale)
	edited := filepath.Join(t.TempDir(), "edited.plan")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(b), "400Mi", "500Mi", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "apply", edited, "--kubeconfig", kc)
	if code != ExitUsage || !strings.Contains(errs, "was changed after pyship wrote it") {
		t.Errorf("apply of an edited plan: exit %d\n%s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["pyshipPlanFormat"] = gitops.PlanFormat + 1
	nb, _ := json.Marshal(m)
	if err := os.WriteFile(edited, nb, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "apply", edited, "--kubeconfig", kc)
	if code != ExitUsage || !strings.Contains(errs, "newer than this pyship") {
		t.Errorf("apply of a newer plan: exit %d\n%s", code, errs)
	}
}
