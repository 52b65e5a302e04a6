package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	st, err := c.ReadState(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	name := kube.DeploymentName("web", st.Active) // the release's Deployment
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
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

	// A second plan, made stale by someone scaling the Deployment.
	stale := filepath.Join(t.TempDir(), "stale.plan")
	if code, _, errs := runCLI(t, append(planArgs, "--memory", "300Mi", "--out", stale)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s", code, errs)
	}
	if _, err := c.Core.AppsV1().Deployments(c.Namespace).Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "apply", stale, "--kubeconfig", kc)
	if code != ExitFailure || !strings.Contains(errs, "is stale") || !strings.Contains(errs, "Deployment/"+name+" changed") {
		t.Errorf("apply of a stale plan: exit %d\n%s", code, errs)
	}
	if d, _ := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{}); d.Spec.Template.Spec.Containers[0].Resources.Requests.Memory().String() == "300Mi" {
		t.Error("a stale plan was applied")
	}

	// Edited by hand, or from a newer pyship: refused.
	b, _ := os.ReadFile(stale)
	edited := filepath.Join(t.TempDir(), "edited.plan")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(b), "300Mi", "400Mi", 1)), 0o600); err != nil {
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
	m["pyshipPlanFormat"] = 2
	nb, _ := json.Marshal(m)
	if err := os.WriteFile(edited, nb, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "apply", edited, "--kubeconfig", kc)
	if code != ExitUsage || !strings.Contains(errs, "newer than this pyship") {
		t.Errorf("apply of a newer plan: exit %d\n%s", code, errs)
	}
}
