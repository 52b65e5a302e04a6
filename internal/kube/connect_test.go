package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

// Connect names what is wrong: a kubeconfig file that is not there, and a cluster that does
// not answer (with its server, context and file), before any caller builds anything for it.
func TestConnectNamesTheKubeconfigAndTheCluster(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	if _, err := Connect(context.Background(), ClientOptions{Kubeconfig: missing}); err == nil || !strings.Contains(err.Error(), "the kubeconfig "+missing+" does not exist") {
		t.Errorf("missing kubeconfig: %v", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", testsvc.Port(t)) // reserved, nothing listens
	kc := filepath.Join(dir, "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server +
		"\ncontexts:\n- name: far\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: far\n"
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Connect(context.Background(), ClientOptions{Kubeconfig: kc})
	want := "cannot reach the Kubernetes API server " + server + ` (context "far" of ` + kc + ")"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unreachable cluster: %v, want %q", err, want)
	}
}
