package kube

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// cluster is a test's view of the real control plane: a client on a fresh namespace.
type cluster struct {
	*Client
	kubeconfig string
}

var crdOnce sync.Once
var crdErr error

// newCluster returns a client on a new namespace, deleted when the test ends, of the cluster
// KUBECONFIG names, else of the test control plane (started or reused): testsvc.Kubeconfig.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster test; run without -short")
	}
	kc := testsvc.Kubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := Connect(ctx, ClientOptions{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	crdOnce.Do(func() { crdErr = installGatewayCRDs(ctx, t, cl) })
	if crdErr != nil {
		t.Fatal(crdErr)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	ns := "t-" + strings.ToLower(strings.ReplaceAll(t.Name(), "_", "-"))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	ns += "-" + hex.EncodeToString(suffix)
	ns = strings.ReplaceAll(ns, "/", "-")
	// Pod Security admission enforces the restricted profile: a rendered pod that breaks it is
	// never created, and the rollout tests fail.
	restricted := map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}
	if _, err := cl.Core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: restricted}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cl.Core.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	cl.Namespace = ns
	return &cluster{Client: cl, kubeconfig: kc}
}

// installGatewayCRDs creates the standard-channel Gateway API CRDs from the Go module cache
// that the cluster lacks. CRDs already there (another version, another owner) are used as they
// are, never overwritten; the ones created are left installed, as other test processes on the
// same cluster may be using them (deleting a CRD deletes every object of it).
func installGatewayCRDs(ctx context.Context, t *testing.T, cl *Client) error {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return errors.New("locating sigs.k8s.io/gateway-api in the module cache (go list -m): " + err.Error())
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	for _, f := range []string{"gatewayclasses", "gateways", "httproutes"} {
		objs, err := readYAML(filepath.Join(dir, "gateway.networking.k8s.io_"+f+".yaml"))
		if err != nil {
			return err
		}
		for _, u := range objs {
			created, err := createCRD(ctx, cl, u)
			if err != nil {
				return err
			}
			if created {
				t.Logf("installed CRD %s on the cluster", u.GetName())
			}
		}
	}
	// The CRDs serve once established; the REST mapper must then see them.
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cl.Mapper.Reset()
		_, err := cl.Mapper.RESTMapping(gvk("gateway.networking.k8s.io", "v1", "HTTPRoute").GroupKind(), "v1")
		return err == nil, nil
	})
}

// createCRD creates the CRD u unless the cluster has one of that name, and says whether it did;
// one being deleted (by an earlier test) is waited for and created again.
func createCRD(ctx context.Context, cl *Client, u *unstructured.Unstructured) (bool, error) {
	api := cl.Dynamic.Resource(crdGVR)
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		live, err := api.Get(ctx, u.GetName(), metav1.GetOptions{})
		if isNotFound(err) || err != nil {
			return true, err
		}
		return live.GetDeletionTimestamp() == nil, nil
	})
	switch {
	case err == nil:
		return false, nil // there, and staying
	case !isNotFound(err):
		return false, fmt.Errorf("looking up CRD %s: %w", u.GetName(), err)
	}
	_, err = api.Create(ctx, u, metav1.CreateOptions{FieldManager: "pyship-test"})
	if apierrors.IsAlreadyExists(err) { // another test process got there first
		return false, nil
	}
	return err == nil, err
}

// TestClusterTestsHonourKUBECONFIG: with KUBECONFIG set, the tests use that cluster and start
// nothing (here: a copy of the test control plane's kubeconfig).
func TestClusterTestsHonourKUBECONFIG(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test; run without -short")
	}
	t.Parallel()
	kc := testsvc.Kubeconfig(t)
	raw, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.kubeconfig")
	if err := os.WriteFile(other, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := testsvc.KubeconfigFrom(t, other); got != other {
		t.Errorf("the tests use %s, want KUBECONFIG's %s", got, other)
	}
	// Connect finds it through KUBECONFIG of the environment it is given.
	c, err := Connect(ctxFor(t, time.Minute), ClientOptions{Getenv: func(k string) string { return map[string]string{"KUBECONFIG": other}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Core.CoreV1().Namespaces().Get(ctxFor(t, 10*time.Second), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("the default namespace on KUBECONFIG's cluster: %v", err)
	}
}

func readYAML(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var out []*unstructured.Unstructured
	for {
		doc, err := d.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// appPlan is a small web app without persistent data (kwok nodes have no volumes).
func appPlan(name, strategy string) *plan.Plan {
	p := webPlan(name, strategy)
	p.Data = nil
	p.Deploy.Replicas = 3
	return p
}

func image(tag string) string {
	return "registry.example/app@sha256:" + strings.Repeat(tag, 64/len(tag))[:64]
}

// logProgress sends progress lines to the test log.
func logProgress(t *testing.T) Progress {
	return func(format string, args ...any) { t.Logf(format, args...) }
}

func (c *cluster) render(t *testing.T, p *plan.Plan, o Options) *Bundle {
	t.Helper()
	o.Namespace = c.Namespace
	b, err := Render(p, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unschedulable makes a release whose pods can never run (no node matches).
var unschedulable = map[string]string{"pyship.dev/no-such-node": "true"}

func kubectl(t *testing.T, kubeconfig string, stdin []byte, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ctxFor is a deadline for one step of a test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
