package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// On a cluster too, the verbs acting on an app take the project's folder as DIR: run from a
// folder outside the project, DIR's spec names the target, the namespace and the strategy
// (rollback needs the project's plan on Kubernetes), and RELEASE DIR names the release.
func TestKubernetesVerbsActOnTheProjectInDIR(t *testing.T) {
	env, c := kubeProject(t, "cli-dir", `name = "shop"
[deploy]
target = "kubernetes"
strategy = "blue-green"
[kubernetes]
namespace = %q
`)
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	img2 := strings.Replace(cliImage, "1111", "2222", 1)
	for _, img := range []string{cliImage, img2} {
		if code, _, errs := env.run(t, "deploy", "--image", img, dir); code != ExitOK {
			t.Fatalf("deploy %s DIR: exit %d\n%s", img, code, errs)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.ReadState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	selects := func() string {
		svc, err := c.Core.CoreV1().Services(c.Namespace).Get(ctx, "shop", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Spec.Selector[kube.LabelRelease]
	}
	for _, c := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"status", dir}, ExitOK, "active " + st.Active, ""},
		{[]string{"abort", dir}, ExitFailure, "", "no rollout of shop is in progress"},
		{[]string{"rollback", dir}, ExitOK, "release " + st.Previous + " is active", ""},
		{[]string{"rollback", "r99", dir}, ExitUsage, "", "on Kubernetes only the previous release (" + st.Active + ") can be rolled back to"},
		{[]string{"rollback", st.Active, dir}, ExitOK, "release " + st.Active + " is active", ""},
		{[]string{"promote", dir}, ExitOK, "", ""},
	} {
		code, out, errs := env.run(t, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) {
			t.Errorf("pyship %s: exit %d, want %d with %q on stdout and %q on stderr\n%s%s", strings.Join(c.args, " "), code, c.code, c.out, c.err, out, errs)
		}
	}
	if got := selects(); got != st.Active {
		t.Errorf("after rollback to %s the Service selects %s", st.Active, got)
	}
	if code, out, errs := env.run(t, "destroy", dir); code != ExitOK || !strings.Contains(out, "shop destroyed in namespace "+c.Namespace) {
		t.Fatalf("destroy DIR: exit %d\n%s%s", code, out, errs)
	}
}
