package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

func TestPruneRemovesOnlyWhatPyshipOwned(t *testing.T) {
	c := newCluster(t)
	p := appPlan("pr", "rolling")
	with := c.render(t, p, Options{Image: image("a1"), Host: "pr.example.com", MaxReplicas: 5})
	ctx := ctxFor(t, time.Minute)
	if _, err := c.Apply(ctx, with, ApplyOptions{Prune: true}); err != nil {
		t.Fatal(err)
	}
	// Objects pyship does not own: same app label, no ApplySet membership; and another app's.
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pr-handmade", Labels: map[string]string{LabelName: "pr", LabelApp: "pr"}}}
	if _, err := c.Core.CoreV1().ConfigMaps(c.Namespace).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := c.render(t, appPlan("other", "rolling"), Options{Image: image("b1"), Host: "other.example.com"})
	if _, err := c.Apply(ctx, other, ApplyOptions{Prune: true}); err != nil {
		t.Fatal(err)
	}

	without := c.render(t, p, Options{Image: image("a1")}) // no host, no autoscaler
	res, err := c.Apply(ctx, without, ApplyOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Pruned, ","); got != "HorizontalPodAutoscaler/pr,Ingress/pr" {
		t.Errorf("pruned %q, want HorizontalPodAutoscaler/pr,Ingress/pr", got)
	}
	if _, err := c.Core.NetworkingV1().Ingresses(c.Namespace).Get(ctx, "pr", metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("Ingress pr should be gone: %v", err)
	}
	if _, err := c.Core.AutoscalingV2().HorizontalPodAutoscalers(c.Namespace).Get(ctx, "pr", metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("HPA pr should be gone: %v", err)
	}
	for _, keep := range []func() error{
		func() error {
			_, err := c.Core.CoreV1().ConfigMaps(c.Namespace).Get(ctx, "pr-handmade", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := c.Core.NetworkingV1().Ingresses(c.Namespace).Get(ctx, "other", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, DeploymentName("pr", without.Release), metav1.GetOptions{})
			return err
		},
	} {
		if err := keep(); err != nil {
			t.Errorf("prune removed an object it must keep: %v", err)
		}
	}
	parent, err := c.Core.CoreV1().Secrets(c.Namespace).Get(ctx, ApplySetParentName("pr"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if parent.Labels[ApplySetParentIDLabel] != ApplySetID("pr", c.Namespace) || strings.Contains(parent.Annotations[ApplySetGroupKindsAnno], "Ingress") {
		t.Errorf("ApplySet parent: id %q kinds %q", parent.Labels[ApplySetParentIDLabel], parent.Annotations[ApplySetGroupKindsAnno])
	}

	// destroy removes the rest, and nothing of the other app.
	if _, err := c.Destroy(ctx, "pr", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, DeploymentName("pr", without.Release), metav1.GetOptions{}); !isNotFound(err) {
		t.Errorf("destroy left Deployment pr: %v", err)
	}
	if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, DeploymentName("other", other.Release), metav1.GetOptions{}); err != nil {
		t.Errorf("destroy of pr removed the other app: %v", err)
	}
}

func TestConflictAndRBACErrorsAreClear(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, time.Minute)
	b := c.render(t, appPlan("rb", "rolling"), Options{Image: image("a1")})
	if _, err := c.Apply(ctx, b, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// Another tool takes the Service's port name with its own server-side apply.
	svc := b.find("Service", "rb").DeepCopy()
	other := svc.DeepCopy()
	other.Object["spec"] = map[string]any{"ports": []any{map[string]any{"port": int64(80), "protocol": "TCP", "targetPort": int64(9000)}}}
	other.SetLabels(nil)
	if _, err := c.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("services")).Namespace(c.Namespace).
		Apply(ctx, "rb", other, metav1.ApplyOptions{FieldManager: "other-tool", Force: true}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Apply(ctx, b, ApplyOptions{})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "other-tool") || !strings.Contains(err.Error(), "--force-conflicts") {
		t.Errorf("conflict: got %v, want ErrConflict naming other-tool and --force-conflicts", err)
	}
	if _, err := c.Apply(ctx, b, ApplyOptions{Force: true}); err != nil {
		t.Errorf("with Force the conflict is taken over: %v", err)
	}

	// A user who may only read Deployments.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}}}}
	if _, err := c.Core.RbacV1().Roles(c.Namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rbBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "jane"}}}
	if _, err := c.Core.RbacV1().RoleBindings(c.Namespace).Create(ctx, rbBinding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "jane"}
	jane, err := NewClient(cfg, c.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	_, err = jane.Apply(ctx, b, ApplyOptions{})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), c.Namespace) || !strings.Contains(err.Error(), "Role") {
		t.Errorf("RBAC: got %v, want ErrForbidden naming the namespace and what Role to ask for", err)
	}
}

func TestRenderedYAMLPassesServerDryRun(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	for name, o := range map[string]Options{
		"ingress": fullOptions(),
		"gateway": {Image: testImage, Host: "shop.example.com", GatewayAPI: true, Gateway: "infra/public", MaxReplicas: 4,
			ConfigFiles: map[string]string{"a.toml": "x = 1\n"}, Secrets: map[string]string{"K": "v"}},
	} {
		o.Monitoring = false // no Prometheus Operator CRDs on the test cluster
		if o.AgentImage != "" {
			o.ProxySidecar = ptr(true) // the native sidecar's fields, validated by the server
		}
		for _, strategy := range []string{"rolling", "blue-green", "canary"} {
			p := webPlan("shop", strategy)
			b := c.render(t, p, o)
			f := filepath.Join(dir, name+"-"+strategy+".yaml")
			var sb strings.Builder
			if err := WriteYAML(&sb, b, true); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := kubectl(t, c.kubeconfig, nil, "apply", "--dry-run=server", "--server-side", "--field-manager=dry-run-check", "-n", c.Namespace, "-f", f)
			if err != nil {
				t.Errorf("%s/%s: kubectl apply --dry-run=server failed: %v\n%s", name, strategy, err, out)
			}
		}
	}
}
