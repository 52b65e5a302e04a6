package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// TestDriftKubernetes: replicas scaled with the scale subresource (as kubectl scale does) and
// an env value edited by another manager (as kubectl set env does) are listed with their
// fields and posted to the webhook; --reconcile puts pyship's values back and then finds none.
func TestDriftKubernetes(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-drift")
	dir := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"web\"\nversion = \"1\"\n[run]\nkind = \"web\"\ncommand = \"python main.py\"\nport = 8000\n[env]\nMODE = \"prod\"\n",
		"main.py":     "print(1)\n",
	})
	cluster := []string{"--kubeconfig", kc, "-n", c.Namespace}
	plan := filepath.Join(t.TempDir(), "web.plan")
	if code, _, errs := runCLI(t, append([]string{"plan", dir, "--target", "kubernetes", "--image", cliImage, "--out", plan}, cluster...)...); code != ExitOK {
		t.Fatalf("plan: exit %d\n%s", code, errs)
	}
	if code, _, errs := runCLI(t, "apply", plan, "--kubeconfig", kc); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	// No --target: a cluster flag chooses Kubernetes over the spec's (default local) target.
	drift := append([]string{"drift", dir}, cluster...)
	if code, out, errs := runCLI(t, drift...); code != ExitOK || out != "" || !strings.Contains(errs, "no drift") {
		t.Fatalf("drift right after the deploy: exit %d\n%s\n%s", code, out, errs)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deps := c.Core.AppsV1().Deployments(c.Namespace)
	st, err := c.ReadState(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	name := kube.DeploymentName("web", st.Active) // the release's Deployment
	sc, err := deps.GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 4
	if _, err := deps.UpdateScale(ctx, name, sc, metav1.UpdateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	// The Deployment controller writes its status after the scale: read again on a conflict.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "MODE" {
				d.Spec.Template.Spec.Containers[0].Env[i].Value = "debug"
			}
		}
		_, err = deps.Update(ctx, d, metav1.UpdateOptions{FieldManager: "kubectl-set"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	var posted string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted = string(b)
	}))
	defer hook.Close()
	code, out, errs := runCLI(t, append(drift, "--webhook", hook.URL)...)
	if code != ExitFailure {
		t.Fatalf("drift after out-of-band changes: exit %d, want %d\n%s\n%s", code, ExitFailure, out, errs)
	}
	for _, want := range []string{
		"Deployment/" + name + " changed by kubectl (Update of scale): spec.replicas",
		"Deployment/" + name + " changed by kubectl-set (Update): spec.template.spec.containers[name=app].env[name=MODE].value",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("drift lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(posted, "web in namespace "+c.Namespace+" drifted: 2 change(s)") || !strings.Contains(posted, "env[name=MODE].value") {
		t.Errorf("the webhook got %q", posted)
	}

	code, out, errs = runCLI(t, append(drift, "--reconcile")...)
	if code != ExitOK || !strings.Contains(errs, "no drift (after reconciling)") {
		t.Fatalf("drift --reconcile: exit %d\n%s\n%s", code, out, errs)
	}
	d, err := deps.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mode := ""
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "MODE" {
			mode = e.Value
		}
	}
	if *d.Spec.Replicas != 1 || mode != "prod" || d.Spec.Template.Spec.Containers[0].Image != cliImage {
		t.Errorf("after --reconcile: replicas %d, MODE %q, image %s", *d.Spec.Replicas, mode, d.Spec.Template.Spec.Containers[0].Image)
	}
}
