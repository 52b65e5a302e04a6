package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeDeployRealPodsVersusKubectl times `pyship deploy` of the stdlib example's image (built
// and pushed once, before the rounds) until its 3 pods run Ready on the real node
// (`scripts/services start kube-node`), against `kubectl apply --server-side` + `kubectl rollout
// status` of the manifests `pyship render` gives for the same image, alternating, each round on a
// fresh namespace; median of 3. The image is pulled by a warm-up deploy first, so neither side
// pays for the pull.
func TestKubeDeployRealPodsVersusKubectl(t *testing.T) {
	if os.Getenv("PYSHIP_BENCH") == "" {
		t.Skip("a benchmark, not a test: run with PYSHIP_BENCH=1 (see bench/README.md)")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed: nothing to compare with")
	}
	vars := testsvc.Start(t, "kube-node")
	if why := vars["PYSHIP_KUBE_NODE_SKIP"]; why != "" {
		t.Skip("real-pod tier: " + why)
	}
	kc := vars["KUBECONFIG"]
	var ann map[string]string
	if err := json.Unmarshal([]byte(vars["PYSHIP_KUBE_REAL_NODE_ANNOTATIONS"]), &ann); err != nil {
		t.Fatal(err)
	}
	base := testsvc.Start(t, "pybase")["PYSHIP_TEST_BASE"]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "pyship")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/pyship/pyship/cmd/pyship").CombinedOutput(); err != nil {
		t.Fatalf("building pyship: %v\n%s", err, out)
	}
	proj := testsvc.CopyTree(t, filepath.Join(testsvc.RepoRoot(t), "examples", "stdlib"))
	spec := fmt.Sprintf("name = \"bench\"\n[build]\nbase = %q\nregistry = %q\n[deploy]\ntarget = \"kubernetes\"\nreplicas = 3\n[kubernetes]\ncpu = \"50m\"\nmemory = \"64Mi\"\nstorage_class = %q\n",
		base, vars["PYSHIP_TEST_REGISTRY"]+"/bench", vars["PYSHIP_KUBE_STORAGE_CLASS"])
	if err := os.WriteFile(filepath.Join(proj, "pyship.toml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	pyship := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = proj
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "PIP_NO_INDEX=1", "PYSHIP_CACHE="+filepath.Join(proj, ".cache"))
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return "", fmt.Errorf("pyship %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			return "", err
		}
		return strings.TrimSpace(string(out)), nil
	}
	image, err := pyship("build")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(tool string, i int) string {
		ns := fmt.Sprintf("bench-real-%s-%d-%d", tool, i, time.Now().UnixNano()%100000)
		if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Annotations: ann,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
		return ns
	}
	if _, err := pyship("deploy", "--image", image, "-n", fresh("warmup", 0)); err != nil {
		t.Fatal(err)
	}
	const rounds = 3
	var ours, theirs []time.Duration
	for i := 0; i < rounds; i++ {
		ns := fresh("pyship", i)
		start := time.Now()
		if _, err := pyship("deploy", "--image", image, "-n", ns); err != nil {
			t.Fatal(err)
		}
		ours = append(ours, time.Since(start))

		ns = fresh("kubectl", i)
		manifests, err := pyship("render", "--image", image, "-n", ns)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "app.yaml")
		if err := os.WriteFile(f, []byte(manifests+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := kubectlApplyAndWait(ctx, kc, ns, f, "bench")
		if err != nil {
			t.Fatal(err)
		}
		theirs = append(theirs, d)
		t.Logf("round %d: pyship deploy %v, kubectl apply + rollout status %v", i, ours[i].Round(time.Millisecond), theirs[i].Round(time.Millisecond))
	}
	t.Logf("median deploy of 3 real pods: pyship %v, kubectl %v", median(ours).Round(time.Millisecond), median(theirs).Round(time.Millisecond))
}
