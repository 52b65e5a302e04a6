package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fullApp has every object render produces (Monitoring aside: the test cluster has no
// Prometheus Operator CRDs, and kubectl would fail on them).
func fullApp(ns string) (*kube.Bundle, error) {
	p := &plan.Plan{Name: "bench", Version: "1",
		Run:    plan.Run{Kind: "web", Server: "gunicorn", Port: 8000, Command: []string{"gunicorn", "app:app"}},
		Health: plan.Health{Type: "http", Path: "/healthz", Interval: "2s", Timeout: "1s", StartupTimeout: "30s"},
		Config: &plan.Folder{Path: "config"}, Data: []plan.DataFolder{{Path: "uploads", Persistent: true}},
		Deploy: plan.Deploy{Strategy: "rolling", Replicas: 3, DrainTimeout: "10s"}}
	return kube.Render(p, kube.Options{Namespace: ns, Image: "registry.example/bench@sha256:" + strings.Repeat("ab", 32),
		Host: "bench.example.com", ClusterIssuer: "letsencrypt", MaxReplicas: 6,
		ConfigFiles: map[string]string{"app.toml": "x = 1\n"}, Secrets: map[string]string{"TOKEN": "s3cret"}})
}

// TestKubeApplyAndWaitVersusKubectl times `apply + wait until available` of the same full app
// with pyship's library and with `kubectl apply --server-side` + `kubectl rollout status`,
// alternating, each on a fresh namespace; pyship must be at least as fast (median).
func TestKubeApplyAndWaitVersusKubectl(t *testing.T) {
	if os.Getenv("PYSHIP_BENCH") == "" {
		t.Skip("a benchmark, not a test: run with PYSHIP_BENCH=1 (see bench/README.md)")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed: nothing to compare with")
	}
	kc := testsvc.Kubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 3
	var ours, theirs []time.Duration
	for i := 0; i < rounds; i++ {
		for _, tool := range []string{"pyship", "kubectl"} {
			ns := fmt.Sprintf("bench-%s-%d-%d", tool, i, time.Now().UnixNano()%100000)
			if err := prepare(ctx, c, ns); err != nil {
				t.Fatal(err)
			}
			b, err := fullApp(ns)
			if err != nil {
				t.Fatal(err)
			}
			var d time.Duration
			if tool == "pyship" {
				d, err = withPyship(ctx, kc, ns, b)
				ours = append(ours, d)
			} else {
				d, err = withKubectl(ctx, t, kc, ns, b)
				theirs = append(theirs, d)
			}
			if err != nil {
				t.Fatalf("%s round %d: %v", tool, i, err)
			}
			t.Logf("round %d %-7s %v", i, tool, d.Round(time.Millisecond))
			_ = c.Core.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
			_ = c.Core.CoreV1().PersistentVolumes().Delete(ctx, ns, metav1.DeleteOptions{})
		}
	}
	mo, mt := median(ours), median(theirs)
	t.Logf("median apply+wait of a full app: pyship %v, kubectl %v", mo.Round(time.Millisecond), mt.Round(time.Millisecond))
	if mo > mt {
		t.Errorf("pyship (%v) is slower than kubectl apply --server-side + rollout status (%v)", mo, mt)
	}
}

// prepare creates the namespace and a volume the app's claim binds to.
func prepare(ctx context.Context, c *kube.Client, ns string) error {
	if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + ns}},
		ClaimRef:               &corev1.ObjectReference{Namespace: ns, Name: "bench-data-uploads"},
	}}
	_, err := c.Core.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	return err
}

// withPyship is what `pyship deploy` does after the image is pushed: connect, apply, watch.
func withPyship(ctx context.Context, kubeconfig, ns string, b *kube.Bundle) (time.Duration, error) {
	start := time.Now()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kubeconfig, Namespace: ns})
	if err != nil {
		return 0, err
	}
	if err := c.Deploy(ctx, b, kube.DeployOptions{Replicas: 3, Prune: true}); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func withKubectl(ctx context.Context, t *testing.T, kubeconfig, ns string, b *kube.Bundle) (time.Duration, error) {
	var buf bytes.Buffer
	if err := kube.WriteYAML(&buf, b, true); err != nil {
		return 0, err
	}
	f := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		return 0, err
	}
	return kubectlApplyAndWait(ctx, kubeconfig, ns, f, b.App)
}

// kubectlApplyAndWait times `kubectl apply --server-side -f file` + `kubectl rollout status` of
// the app's Deployment (APP-RELEASE, found by its label).
func kubectlApplyAndWait(ctx context.Context, kubeconfig, ns, file, app string) (time.Duration, error) {
	start := time.Now()
	for _, args := range [][]string{
		{"apply", "--server-side", "-n", ns, "-f", file},
		{"rollout", "status", "-n", ns, "deployment", "-l", kube.LabelName + "=" + app, "--timeout=3m"},
	} {
		cmd := exec.CommandContext(ctx, "kubectl", args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	return time.Since(start), nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
