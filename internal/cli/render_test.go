package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const cliImage = "registry.example/web@sha256:1111111111111111111111111111111111111111111111111111111111111111"

// writePlan writes a resolved web app's plan JSON (with a config folder and secrets file) and
// returns its path.
func writePlan(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "app.toml"), []byte("mode = \"prod\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(t.TempDir(), "prod.env")
	if err := os.WriteFile(secrets, []byte("# db\nDATABASE_URL=postgres://u:hunter2@db/web\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := plan.Plan{SchemaVersion: plan.SchemaVersion, Dir: dir, Name: name, Version: "1",
		Run:    plan.Run{Kind: "web", Server: "gunicorn", Port: 8000, Workers: 2, Command: []string{"gunicorn", "app:app"}},
		Health: plan.Health{Type: "http", Path: "/health", Interval: "2s", Timeout: "1s", StartupTimeout: "20s"},
		Config: &plan.Folder{Path: "config"}, SecretsFile: secrets,
		Deploy: plan.Deploy{Target: "kubernetes", Strategy: "rolling", Replicas: 2, DrainTimeout: "10s"}}
	data, _ := json.Marshal(p)
	f := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runCtx(t, ctx, args...)
}

func TestRenderCommand(t *testing.T) {
	pf := writePlan(t, "web")
	code, out, errs := runCLI(t, "render", "--plan", pf, "--image", cliImage, "--host", "web.example.com")
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"kind: Deployment", "kind: ConfigMap", "mode = \"prod\"", "kind: Ingress", "host: web.example.com", "# Secret default/web-secrets not shown (keys: [DATABASE_URL])"} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q", want)
		}
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "aHVudGVyM") {
		t.Error("render printed the secret without --show-secrets")
	}
	_, again, _ := runCLI(t, "render", "--plan", pf, "--image", cliImage, "--host", "web.example.com")
	if again != out {
		t.Error("two renders differ")
	}
	code, out, _ = runCLI(t, "render", "--plan", pf, "--image", cliImage, "--show-secrets")
	if code != ExitOK || !strings.Contains(out, "DATABASE_URL:") {
		t.Errorf("--show-secrets: exit %d, output lacks the Secret's data", code)
	}

	dir := t.TempDir()
	code, out, errs = runCLI(t, "render", "--plan", pf, "--image", cliImage, "--output-dir", dir)
	if code != ExitOK {
		t.Fatalf("render -o: exit %d: %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) < 7 || strings.Count(out, "\n") != len(files) {
		t.Errorf("render -o wrote %d files and listed %d", len(files), strings.Count(out, "\n"))
	}

	// An image by tag renders as given, with a warning that deploy would refuse it.
	code, out, errs = runCLI(t, "render", "--plan", pf, "--image", "registry.example/web:latest")
	if code != ExitOK || !strings.Contains(out, "image: registry.example/web:latest") ||
		!strings.Contains(errs, "warning: --image registry.example/web:latest has no digest") {
		t.Errorf("render of a tagged image: exit %d, stderr %q", code, errs)
	}
	// Without --image the error shows the way README gives it: pyship render --image "$(pyship build --push)".
	if code, _, errs = runCLI(t, "render", "--plan", pf, "--output-dir", t.TempDir()); code != ExitUsage || !strings.Contains(errs, `--image "$(pyship build --push)"`) {
		t.Errorf("render without --image: exit %d, want %d naming how to give the image\n%s", code, ExitUsage, errs)
	}
}

func TestRenderUsageErrors(t *testing.T) {
	pf := writePlan(t, "web")
	for _, args := range [][]string{
		{"render", "--plan", pf},                                    // no image
		{"render", "--plan", pf, "--image", cliImage, "--cpu", "x"}, // bad quantity
		{"render", "--plan", pf, "--image", cliImage, "extra-dir"},  // both
		{"render", "--no-such-flag"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != ExitUsage || !strings.HasPrefix(errs, "pyship: ") {
			t.Errorf("%v: exit %d (%q), want %d with a pyship: message", args, code, errs, ExitUsage)
		}
	}
}

func TestDiffCommandAgainstCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	kc := testsvc.Kubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	ns := "cli-diff-" + strings.ToLower(time.Now().Format("150405.000000"))
	ns = strings.ReplaceAll(ns, ".", "")
	if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	pf := writePlan(t, "web")
	args := []string{"diff", "--plan", pf, "--image", cliImage, "--kubeconfig", kc, "-n", ns}
	code, out, errs := runCLI(t, args...)
	if code != 2 || !strings.Contains(out, "=== create Deployment/web") {
		t.Fatalf("diff on an empty namespace: exit %d, want 2 (changes) with creates:\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "hunter2") {
		t.Error("diff printed a secret value")
	}
	// Apply what render produced, then diff says nothing changes.
	var p plan.Plan
	data, _ := os.ReadFile(pf)
	_ = json.Unmarshal(data, &p)
	c.Namespace = ns
	o := kube.Options{Image: cliImage, Namespace: ns}
	if err := kube.LoadInputs(&p, &o); err != nil {
		t.Fatal(err)
	}
	b, err := kube.Render(&p, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, kube.ForKubectl(b), kube.ApplyOptions{Prune: true}); err != nil { // as `pyship render` prints it
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, args...)
	if code != ExitOK {
		t.Fatalf("diff after apply: exit %d, want 0:\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, append(args[:len(args):len(args)], "--cpu-limit", "2")...)
	if code != 2 || !strings.Contains(out, "=== update Deployment/web") || !regexp.MustCompile(`(?m)^\+ +cpu: "2"$`).MatchString(out) {
		t.Errorf("diff after a change: exit %d, want 2 with the Deployment's cpu limit:\n%s", code, out)
	}
	tagged := []string{"diff", "--plan", pf, "--image", "registry.example/web:1", "--kubeconfig", kc, "-n", ns}
	if code, _, errs = runCLI(t, tagged...); code != 2 || !strings.Contains(errs, "warning: --image registry.example/web:1 has no digest") {
		t.Errorf("diff of a tagged image: exit %d, want 2 (changes) with a warning\n%s", code, errs)
	}
}

func TestRenderTakesTheSpecsKubernetesKeysAndFlagsWin(t *testing.T) {
	pf := writePlan(t, "web")
	var p plan.Plan
	data, _ := os.ReadFile(pf)
	_ = json.Unmarshal(data, &p)
	p.Kubernetes = &plan.Kubernetes{Namespace: "shop", Host: "web.example.com", Gateway: "infra/public", CPU: "500m", MaxReplicas: 5}
	data, _ = json.Marshal(p)
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "render", "--plan", pf, "--image", cliImage)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"namespace: shop", "kind: HTTPRoute", "namespace: infra", "name: public", "cpu: 500m", "kind: HorizontalPodAutoscaler", "maxReplicas: 5"} {
		if !strings.Contains(out, want) {
			t.Errorf("render of the spec's [kubernetes] keys lacks %q", want)
		}
	}
	if strings.Contains(out, "kind: Ingress") {
		t.Error("a gateway in the spec still rendered an Ingress")
	}
	code, out, errs = runCLI(t, "render", "--plan", pf, "--image", cliImage, "-n", "other", "--cpu", "2", "--max-replicas", "7")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"namespace: other", `cpu: "2"`, "maxReplicas: 7"} {
		if !strings.Contains(out, want) {
			t.Errorf("flags did not override the spec: output lacks %q", want)
		}
	}
	if strings.Contains(out, "namespace: shop") || strings.Contains(out, "cpu: 500m") {
		t.Error("the spec's namespace or cpu survived the flags")
	}
}

// render --output-dir replaces each file atomically (renameio, as every file pyship writes):
// a file it cannot put in place leaves no temporary file behind.
func TestRenderDirLeavesNoTemporaryFile(t *testing.T) {
	pf := writePlan(t, "web")
	dir := t.TempDir()
	code, out, errs := runCLI(t, "render", "--plan", pf, "--image", cliImage, "--output-dir", dir)
	if code != ExitOK {
		t.Fatalf("render --output-dir: exit %d: %s", code, errs)
	}
	first := strings.Split(strings.TrimSpace(out), "\n")[0]
	again := t.TempDir()
	if err := os.MkdirAll(filepath.Join(again, filepath.Base(first), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "render", "--plan", pf, "--image", cliImage, "--output-dir", again); code == ExitOK || !strings.Contains(errs, filepath.Base(first)) {
		t.Errorf("render onto a folder named as its file: exit %d: %s", code, errs)
	}
	entries, _ := os.ReadDir(again)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the output folder holds %q, want only the folder that was there", names)
	}
}
