package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestBootstrapObjects(t *testing.T) {
	b := Bootstrap{App: "web", Env: "prod", Root: "clusters/eu", RepoURL: "https://ci:token@git.example/platform.git", Namespace: "web", SOPSSecret: "sops-age"}
	flux, err := Flux(b)
	if err != nil {
		t.Fatal(err)
	}
	if path, _, _ := unstructured.NestedString(flux[1].Object, "spec", "path"); path != "./clusters/eu/apps/web/prod" {
		t.Errorf("Kustomization path %q", path)
	}
	if url, _, _ := unstructured.NestedString(flux[0].Object, "spec", "url"); strings.Contains(url, "token") {
		t.Errorf("the GitRepository carries the URL's password: %s", url)
	}
	if p, _, _ := unstructured.NestedString(flux[1].Object, "spec", "decryption", "provider"); p != "sops" {
		t.Errorf("decryption provider %q", p)
	}
	argo, err := ArgoCD(b)
	if err != nil {
		t.Fatal(err)
	}
	if path, _, _ := unstructured.NestedString(argo[0].Object, "spec", "source", "path"); path != "clusters/eu/apps/web/prod" {
		t.Errorf("Application path %q", path)
	}
	for _, bad := range []Bootstrap{
		{App: "web", Env: "prod", Root: "../x", RepoURL: "u"},
		{App: "web", Env: "prod"},
		{App: "web", Env: "prod", RepoURL: "u", Interval: "soon"},
	} {
		if _, err := Flux(bad); err == nil {
			t.Errorf("Flux(%+v) was accepted", bad)
		}
	}
}

// TestBootstrapAcceptedByTheControllersCRDs installs the Flux and Argo CD CRDs from the
// controllers' own Go modules in the test cluster; the apiserver, validating against their
// schemas, accepts the bootstrap objects and refuses a wrong field.
func TestBootstrapAcceptedByTheControllersCRDs(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	crds := testsvc.Start(t, "gitopscrds")
	kc := testsvc.Kubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := kube.Connect(ctx, kube.ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	crdRes := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	var names []string
	for _, f := range []string{
		filepath.Join(crds["PYSHIP_TEST_FLUX_SOURCE_CRDS"], "source.toolkit.fluxcd.io_gitrepositories.yaml"),
		filepath.Join(crds["PYSHIP_TEST_FLUX_KUSTOMIZE_CRDS"], "kustomize.toolkit.fluxcd.io_kustomizations.yaml"),
		filepath.Join(crds["PYSHIP_TEST_ARGOCD_CRDS"], "application-crd.yaml"),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, crd := range decodeYAML(t, b) {
			// Shared by every test on this cluster; applying the same file again is a no-op.
			if _, err := c.Dynamic.Resource(crdRes).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: "pyship-test", Force: true}); err != nil {
				t.Fatalf("installing the CRD in %s: %v", f, err)
			}
			names = append(names, crd.GetName())
		}
	}
	testsvc.Eventually(t, time.Minute, "the CRDs to be established", func() error {
		for _, n := range names {
			u, err := c.Dynamic.Resource(crdRes).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			ok := false
			for _, cd := range conds {
				m, _ := cd.(map[string]any)
				ok = ok || (m["type"] == "Established" && m["status"] == "True")
			}
			if !ok {
				return fmt.Errorf("%s is not established", n)
			}
		}
		return nil
	})
	c.Mapper.Reset()

	ns := "gitops-boot-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	if _, err := c.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	b := Bootstrap{App: "web", Env: "prod", RepoURL: "https://git.example/platform.git", Namespace: "web", ControllerNamespace: ns, SecretRef: "git-creds", SOPSSecret: "sops-age"}
	flux, err := Flux(b)
	if err != nil {
		t.Fatal(err)
	}
	argo, err := ArgoCD(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(flux, argo...) {
		if _, err := c.ApplyObject(ctx, o, false, false); err != nil {
			t.Errorf("the apiserver refused the bootstrap %s: %v", o.GetKind(), err)
		}
	}
	// The schemas are in force: a wrong field type is refused.
	bad := flux[1].DeepCopy()
	bad.SetName("web-bad")
	if err := unstructured.SetNestedField(bad.Object, "yes", "spec", "prune"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ApplyObject(ctx, bad, false, false); err == nil || !strings.Contains(err.Error(), "spec.prune") {
		t.Errorf("a Kustomization with prune: \"yes\" was not refused by its schema: %v", err)
	}
}
