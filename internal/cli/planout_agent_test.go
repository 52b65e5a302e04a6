package cli

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSavedPlanPushesTheAgentImage: `plan --out` of an app whose pods run pyship's proxy
// sidecar pushes pyship's agent image beside the app image (the real registry) and saves it
// by digest in the plan, so `pyship apply` of it needs no --agent-image; the same plan again
// pushes the same image; --agent-image still overrides. The static pyship binary runs, as
// the agent image packs it; kwok's nodes pull nothing.
func TestSavedPlanPushesTheAgentImage(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-planagent")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	bin := pyshipBin(t)
	dir := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"web\"\nversion = \"1\"\n[run]\nkind = \"web\"\ncommand = \"python main.py\"\nport = 8000\n[kubernetes]\nproxy_sidecar = true\n",
		"main.py":     "print(1)\n",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = testEnv("PYSHIP_CACHE=" + t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pyship %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	repo := reg + "/planagent-" + c.Namespace + "/web"
	appImage := repo + "@sha256:" + strings.Repeat("3", 64)
	planArgs := []string{"plan", dir, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace}

	file := filepath.Join(t.TempDir(), "web.plan")
	out := run(append(planArgs, "--out", file)...)
	if !strings.Contains(out, "pushed pyship's agent image "+repo+":agent-") {
		t.Errorf("plan --out did not push the agent image beside the app's:\n%s", out)
	}
	agent := sidecarImage(t, file)
	if !strings.HasPrefix(agent, repo+":agent-") || !strings.Contains(agent, "@sha256:") {
		t.Fatalf("the saved plan's sidecar image %q: want the agent image beside the app's, by digest", agent)
	}
	ref, err := name.ParseReference(agent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref, remote.WithContext(ctx)); err != nil {
		t.Fatalf("the agent image the plan names is not in the registry: %v", err)
	}
	// Pushing it again is a no-op: the same plan names the same image.
	again := filepath.Join(t.TempDir(), "again.plan")
	run(append(planArgs, "--out", again)...)
	if got := sidecarImage(t, again); got != agent {
		t.Errorf("a second plan names the agent image %s, the first %s", got, agent)
	}

	run("apply", file, "--kubeconfig", kc)
	st, err := c.ReadState(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, kube.DeploymentName("web", st.Active), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Spec.Template.Spec.InitContainers) != 1 || d.Spec.Template.Spec.InitContainers[0].Image != agent {
		t.Errorf("after apply: init containers %+v, want the sidecar from %s", d.Spec.Template.Spec.InitContainers, agent)
	}

	// --agent-image overrides: nothing is pushed, the plan names it.
	mine := reg + "/planagent-" + c.Namespace + "/mine@sha256:" + strings.Repeat("4", 64)
	over := filepath.Join(t.TempDir(), "over.plan")
	if out := run(append(planArgs, "--out", over, "--agent-image", mine)...); strings.Contains(out, "pushed pyship's agent image") {
		t.Errorf("plan --agent-image pushed an agent image:\n%s", out)
	}
	if got := sidecarImage(t, over); got != mine {
		t.Errorf("plan --agent-image %s: the sidecar runs %s", mine, got)
	}
}

// sidecarImage is the image of the proxy sidecar in the Deployment a saved plan holds.
func sidecarImage(t *testing.T, file string) string {
	t.Helper()
	sp, err := gitops.ReadPlan(file, "", "web")
	if err != nil {
		t.Fatal(err)
	}
	ics, _, _ := unstructured.NestedSlice(sp.Bundle.Deployment().Object, "spec", "template", "spec", "initContainers")
	for _, ic := range ics {
		if m, _ := ic.(map[string]any); m["name"] == "pyship-proxy" {
			img, _ := m["image"].(string)
			return img
		}
	}
	t.Fatalf("the plan %s has no proxy sidecar: %v", file, ics)
	return ""
}
