package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/platform/kubetarget"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kubeNamespace returns the kubeconfig of the test cluster (testsvc.Kubeconfig: KUBECONFIG's,
// else the test control plane), a client and a fresh namespace deleted when the test ends.
func kubeNamespace(t *testing.T, prefix string) (string, *kube.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster test")
	}
	kc := testsvc.Kubeconfig(t)
	return kc, newNamespace(t, kc, metav1.ObjectMeta{Name: prefix})
}

// newNamespace creates a namespace (meta's name is the prefix of its name), deleted when the
// test ends, and returns a client in it.
func newNamespace(t *testing.T, kc string, meta metav1.ObjectMeta) *kube.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	meta.Name += "-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ns := meta.Name
	t.Cleanup(func() { _ = c.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	c.Namespace = ns
	return c
}

func TestDeployKubernetesThenStatusRollbackDestroy(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-deploy")
	pf := writePlan(t, "web")
	cluster := []string{"--kubeconfig", kc, "-n", c.Namespace}
	deploy := append([]string{"deploy", "--plan", pf, "--target", "kubernetes", "--image", cliImage}, cluster...)

	code, out, errs := runCLI(t, deploy...)
	if code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	if want := "http://web." + c.Namespace + ".svc\n"; out != want {
		t.Errorf("deploy printed %q, want the Service's address %q", out, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st1, err := c.ReadState(ctx, "web")
	if err != nil || st1.Active == "" || st1.Phase != "done" {
		t.Fatalf("state after the first deploy: %+v, %v", st1, err)
	}
	if !strings.Contains(errs, "2 replica(s) of "+st1.Active+" serve all traffic") {
		t.Errorf("deploy's progress lacks the rollout's steps:\n%s", errs)
	}

	// A release that cannot schedule (no node has 100Ti of memory) fails, is diagnosed and
	// rolled back; --output json says so.
	code, out, errs = runCLI(t, append(deploy, "--memory", "100Ti", "--memory-limit", "100Ti", "--timeout", "6s", "-o", "json")...)
	if code != ExitFailure {
		t.Fatalf("unschedulable deploy: exit %d, want %d\n%s", code, ExitFailure, errs)
	}
	var res platform.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("deploy -o json: %v\n%s", err, out)
	}
	if res.Active != st1.Active || res.Failed != res.Release || res.Phase != rollout.RolledBack || !strings.Contains(res.Message, "Insufficient memory") || !strings.Contains(res.Message, "rolled back") {
		t.Errorf("failed deploy result: active %q failed %q (release %q) phase %q, message:\n%s", res.Active, res.Failed, res.Release, res.Phase, res.Message)
	}

	code, out, errs = runCLI(t, append([]string{"status", "--app", "web", "-o", "json"}, cluster...)...)
	if code != ExitOK {
		t.Fatalf("status: exit %d\n%s", code, errs)
	}
	var sts []platform.AppStatus
	if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 || len(sts[0].Releases) != 2 {
		t.Fatalf("status -o json: %v, want the active release and the failed one\n%s", err, out)
	}
	for _, r := range sts[0].Releases {
		switch {
		case r.ID == st1.Active && (r.Ready != 2 || r.Image != cliImage || r.Role != "active"):
			t.Errorf("status of the active release: %+v", r)
		case r.ID != st1.Active && (r.ID != res.Failed || r.Replicas != 0):
			t.Errorf("status of the failed release: %+v, want %s with no replica", r, res.Failed)
		}
	}
	if st := sts[0]; st.Active != st1.Active || st.Target != platform.Kubernetes || st.Namespace != c.Namespace {
		t.Errorf("status: %+v", st)
	}
	code, out, _ = runCLI(t, append([]string{"status", "--app", "web"}, cluster...)...)
	if code != ExitOK || !strings.Contains(out, "web  namespace "+c.Namespace+"  active "+st1.Active) || !strings.Contains(out, "2/2") {
		t.Errorf("status text: exit %d\n%s", code, out)
	}

	code, out, errs = runCLI(t, append([]string{"rollback", "--app", "web"}, cluster...)...)
	if code != ExitUsage || !strings.Contains(errs, "needs the app's project") {
		t.Errorf("rollback without the project: exit %d, want %d with a hint\n%s", code, ExitUsage, errs)
	}

	code, out, errs = runCLI(t, append([]string{"destroy", "--app", "web"}, cluster...)...)
	if code != ExitOK || !strings.Contains(out, "web destroyed in namespace "+c.Namespace) {
		t.Fatalf("destroy: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, "web-"+st1.Active, metav1.GetOptions{}); err == nil {
		t.Error("the Deployment is still there after destroy")
	}
	code, out, _ = runCLI(t, append([]string{"status", "--app", "web"}, cluster...)...)
	if code != ExitOK || !strings.Contains(out, "web is not deployed in namespace "+c.Namespace) {
		t.Errorf("status after destroy: exit %d\n%s", code, out)
	}
}

// TestDeployKubernetesForceConflicts: another tool takes a field of the app's Deployment; deploy
// fails naming --force-conflicts, and with the flag takes the field back.
func TestDeployKubernetesForceConflicts(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-force")
	pf := writePlan(t, "web")
	deploy := []string{"deploy", "--plan", pf, "--target", "kubernetes", "--image", cliImage, "--kubeconfig", kc, "-n", c.Namespace}
	if code, _, errs := runCLI(t, deploy...); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.ReadState(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	name := kube.DeploymentName("web", st.Active)
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": c.Namespace}, "spec": map[string]any{"revisionHistoryLimit": int64(9)}}}
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	if _, err := c.Dynamic.Resource(gvr).Namespace(c.Namespace).Apply(ctx, name, other, metav1.ApplyOptions{FieldManager: "other-tool", Force: true}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, deploy...)
	t.Logf("the conflicting deploy said:\n%s", errs)
	if code != ExitFailure || !strings.Contains(errs, "field ownership conflict") || !strings.Contains(errs, "other-tool") || !strings.Contains(errs, "--force-conflicts") {
		t.Fatalf("deploy over another manager's field: exit %d, want %d with the conflict and the flag to use\n%s", code, ExitFailure, errs)
	}
	// diff says the same, and with the flag shows what taking the field back changes.
	diff := append([]string{"diff"}, deploy[1:]...)
	diff = slices.DeleteFunc(diff, func(a string) bool { return a == "--target" || a == "kubernetes" })
	if code, _, errs = runCLI(t, diff...); code != ExitFailure || !strings.Contains(errs, "--force-conflicts") { // an error: 1
		t.Errorf("diff over another manager's field: exit %d\n%s", code, errs)
	}
	code, out, errs := runCLI(t, append(diff, "--force-conflicts")...)
	if code != 2 || !regexp.MustCompile(`(?m)^\+ +revisionHistoryLimit: 5$`).MatchString(out) {
		t.Errorf("diff --force-conflicts: exit %d, want 2 (changes) with revisionHistoryLimit going back to 5\n%s%s", code, out, errs)
	}
	if code, _, errs = runCLI(t, append(deploy, "--force-conflicts")...); code != ExitOK {
		t.Fatalf("deploy --force-conflicts: exit %d\n%s", code, errs)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 5 {
		t.Errorf("after --force-conflicts revisionHistoryLimit is %v, want pyship's 5", d.Spec.RevisionHistoryLimit)
	}
}

func TestKubeVerbsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"deploy", "--plan", writePlan(t, "web"), "--target", "kubernetes", "--image", "registry.example/web:latest"},
		{"deploy", "--plan", writePlan(t, "web"), "--target", "mars"},
		{"status", "--target", "mars"},
		{"status", "--target", "local", "-n", "x"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != ExitUsage || !strings.HasPrefix(errs, "pyship: ") {
			t.Errorf("%v: exit %d (%q), want %d", args, code, errs, ExitUsage)
		}
	}
}

// TestDeployKubernetesFromTheSpec deploys a project whose spec chooses the target, namespace and
// host; every later verb finds the cluster from the spec in the current folder.
func TestDeployKubernetesFromTheSpec(t *testing.T) {
	env, c := kubeProject(t, "cli-spec", `name = "shop"
[deploy]
target = "kubernetes"
strategy = "blue-green"
replicas = 2
[kubernetes]
namespace = %q
host = "shop.example.com"
cpu = "100m"
`)
	img2 := strings.Replace(cliImage, "1111", "2222", 1)

	code, out, errs := env.run(t, "deploy", "--image", cliImage)
	if code != ExitOK || out != "http://shop.example.com\n" {
		t.Fatalf("deploy: exit %d, printed %q, want the host's URL\n%s", code, out, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ing, err := c.Core.NetworkingV1().Ingresses(c.Namespace).Get(ctx, "shop", metav1.GetOptions{})
	if err != nil || ing.Spec.Rules[0].Host != "shop.example.com" {
		t.Fatalf("the spec's host gave no Ingress: %v", err)
	}
	st1, _ := c.ReadState(ctx, "shop")
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, "shop-"+st1.Active, metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String() != "100m" {
		t.Fatalf("release Deployment of %s: %v (want the spec's cpu request 100m)", st1.Active, err)
	}

	if code, _, errs = env.run(t, "deploy", "--image", img2); code != ExitOK {
		t.Fatalf("second deploy: exit %d\n%s", code, errs)
	}
	st2, _ := c.ReadState(ctx, "shop")
	if st2.Previous != st1.Active || st2.Active == st1.Active {
		t.Fatalf("after the switch: %+v, want %s previous", st2, st1.Active)
	}
	code, out, _ = env.run(t, "status")
	if code != ExitOK || !strings.Contains(out, "active "+st2.Active) || !regexp.MustCompile(st1.Active+`\s+previous\s+2`).MatchString(out) {
		t.Errorf("status from the project folder: exit %d\n%s", code, out)
	}
	// The old release stays warm for the default 10m rollback window, and status says until when.
	if want := st2.SwitchedAt.Add(10 * time.Minute); !st2.RetireAfter.Equal(want) {
		t.Errorf("the state retires %s after %s, want %s (switched at %s + 10m)", st1.Active, st2.RetireAfter, want, st2.SwitchedAt)
	}
	if want := "previous release " + st1.Active + " keeps 2 replica(s) for rollback until " + st2.RetireAfter.UTC().Format(time.RFC3339); !strings.Contains(out, want) {
		t.Errorf("status does not say when the previous release retires (want %q):\n%s", want, out)
	}

	code, out, errs = env.run(t, "rollback")
	if code != ExitOK {
		t.Fatalf("rollback: exit %d\n%s", code, errs)
	}
	svc, err := c.Core.CoreV1().Services(c.Namespace).Get(ctx, "shop", metav1.GetOptions{})
	if err != nil || svc.Spec.Selector[kube.LabelRelease] != st1.Active {
		t.Errorf("after rollback the Service selects %v, want release %s (%v)", svc.Spec.Selector, st1.Active, err)
	}
	if code, _, errs = env.run(t, "abort"); code != ExitFailure || !strings.Contains(errs, "no rollout of shop is in progress") {
		t.Errorf("abort with nothing in progress: exit %d\n%s", code, errs)
	}
	if code, out, errs = env.run(t, "promote"); code != ExitOK {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errs)
	}
	d, err = c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, "shop-"+st2.Active, metav1.GetOptions{})
	if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
		t.Errorf("after promote the previous release %s should be scaled to 0: %v", st2.Active, err)
	}
}

// kubeProject makes the current folder a project of the stdlib example with the spec (%q in
// it is the test's namespace) and returns an environment whose KUBECONFIG is the test
// cluster's, with the client. The verbs find the project in the current folder, which is what
// the callers test: they cannot run in parallel.
func kubeProject(t *testing.T, prefix, spec string) (cliEnv, *kube.Client) {
	t.Helper()
	kc, c := kubeNamespace(t, prefix)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(example(t, "stdlib"), "main.py"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"main.py": string(src), "requirements.txt": "", "pyship.toml": fmt.Sprintf(spec, c.Namespace)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return testEnv("KUBECONFIG=" + kc), c
}

// TestRollbackKubernetesRolling deploys v1 then v2 with the rolling strategy: `pyship rollback`
// rolls v1's Deployment out again (kept at zero replicas since v2 replaced it), and a second
// one v2's.
func TestRollbackKubernetesRolling(t *testing.T) {
	env, c := kubeProject(t, "cli-rb", `name = "roll"
[deploy]
target = "kubernetes"
replicas = 2
[kubernetes]
namespace = %q
`)
	img2 := strings.Replace(cliImage, "1111", "2222", 1)
	for _, args := range [][]string{{"deploy", "--image", cliImage}, {"deploy", "--image", img2, "--memory-limit", "1Gi"}} {
		if code, _, errs := env.run(t, args...); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errs)
		}
	}
	live := func(wantImage, wantMemory string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := c.ReadState(ctx, "roll")
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, kube.DeploymentName("roll", st.Active), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ct := d.Spec.Template.Spec.Containers[0]
		h, err := c.Health(ctx, "roll", st.Active)
		if err != nil {
			t.Fatal(err)
		}
		if ct.Image != wantImage || ct.Resources.Limits.Memory().String() != wantMemory || h.Ready != 2 {
			t.Errorf("live release: image %s, memory limit %s, %d ready; want %s, %s, 2", ct.Image, ct.Resources.Limits.Memory(), h.Ready, wantImage, wantMemory)
		}
		prev, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, kube.DeploymentName("roll", st.Previous), metav1.GetOptions{})
		if err != nil || prev.Spec.Replicas == nil || *prev.Spec.Replicas != 0 {
			t.Errorf("the previous release %s is not kept at zero replicas: %v", st.Previous, err)
		}
	}
	live(img2, "1Gi")
	code, out, errs := env.run(t, "rollback")
	if code != ExitOK || !strings.Contains(out, "roll rolled back: release") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errs)
	}
	live(cliImage, "512Mi")
	if code, _, errs = env.run(t, "rollback"); code != ExitOK {
		t.Fatalf("second rollback: exit %d\n%s", code, errs)
	}
	live(img2, "1Gi")
}

// TestDeployKubernetesBuildsAndPushes runs the whole path: check, build, push to a registry,
// render with the pushed digest, apply and roll out.
func TestDeployKubernetesBuildsAndPushes(t *testing.T) {
	t.Parallel()
	kc, c := kubeNamespace(t, "cli-build")
	planFile, base, env := buildFixture(t)
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, out, errs := env.runCtx(t, ctx, "deploy", "--plan", planFile, "--target", "kubernetes", "--base", base, "--registry", reg+"/kubedeploy",
		"--kubeconfig", kc, "-n", c.Namespace, "-o", "json")
	if code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	var res platform.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("deploy -o json: %v\n%s", err, out)
	}
	if !refWithDigest.MatchString(res.Image) || !strings.HasPrefix(res.Image, reg+"/kubedeploy/flask-app:1.0.0@sha256:") {
		t.Errorf("deployed image %q, want the pushed reference by digest", res.Image)
	}
	if !strings.Contains(errs, "warning: the image is on "+reg) {
		t.Errorf("no warning that the cluster must reach the loopback registry:\n%s", errs)
	}
	st, err := c.ReadState(ctx, "flask-app")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, kube.DeploymentName("flask-app", st.Active), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(ctx, "flask-app", st.Active)
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != res.Image || h.Ready != 1 {
		t.Errorf("Deployment runs %s with %d ready, want %s with 1", img, h.Ready, res.Image)
	}
	// The registry serves the manifest the Deployment names.
	digest := res.Image[strings.Index(res.Image, "@")+1:]
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+reg+"/v2/kubedeploy/flask-app/manifests/"+digest, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD the deployed manifest on the registry: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
}

func TestKubeProgressKeepsEveryDeploymentStateInPlainOutput(t *testing.T) {
	var plain bytes.Buffer
	p := kubetarget.Progress(&plain)
	p("applied Deployment/web")
	p("web: %d/2 updated, 0 ready, 0 available, 0 total", 1)
	p("web: 2/2 updated, 2 ready, 2 available, 2 total")
	p("web release r1 is live in namespace prod")
	// Not a terminal: the status's first and last states (the last one held back until the
	// next line, as updates within the interval are) are lines; nothing is rewritten.
	want := "applied Deployment/web\nweb: 1/2 updated, 0 ready, 0 available, 0 total\nweb: 2/2 updated, 2 ready, 2 available, 2 total\nweb release r1 is live in namespace prod\n"
	if plain.String() != want {
		t.Errorf("not on a terminal:\n%q\nwant\n%q", plain.String(), want)
	}
}

func TestKubeStatusSaysWhatRetiresThePreviousRelease(t *testing.T) {
	end := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st := &kube.AppStatus{State: kube.State{Active: "r2", Previous: "r1", Phase: "switched", RetireAfter: end},
		Releases: []kube.ReleaseStatus{{Release: "r1", Role: "previous", Replicas: 3}, {Release: "r2", Role: "active", Replicas: 3}}}
	for now, want := range map[time.Time]string{
		end.Add(-90 * time.Second): "previous release r1 keeps 3 replica(s) for rollback until 2026-12-01T10:00:00Z (in 1m30s); the first deploy or `pyship promote` after that scales it down",
		end.Add(time.Hour):         "previous release r1 still runs 3 replica(s): its rollback window ended at 2026-12-01T10:00:00Z; `pyship promote` or the next deploy scales it down",
	} {
		var b strings.Builder
		if err := writeKubeStatus(&b, "web", "prod", st, now); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("at %s status says:\n%s\nwant the line %q", now, b.String(), want)
		}
	}
	st.Releases[0].Replicas = 0 // scaled down: nothing to say
	var b strings.Builder
	_ = writeKubeStatus(&b, "web", "prod", st, end)
	if strings.Contains(b.String(), "rollback until") || strings.Contains(b.String(), "still runs") {
		t.Errorf("a retired previous release is still announced:\n%s", b.String())
	}
}
