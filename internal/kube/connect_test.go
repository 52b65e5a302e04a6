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
	t.Parallel()
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

	// Without --kubeconfig the files come from the environment Getenv reads, not the process's:
	// KUBECONFIG's list (each file once), else HOME's .kube/config.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".kube", "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KUBECONFIG": missing + ":" + missing, "HOME": home}, "the kubeconfig " + missing + " does not exist"},
		{map[string]string{"KUBECONFIG": missing + ":" + kc}, `(context "far" of ` + missing + ":" + kc + ")"},
		{map[string]string{"HOME": home}, `(context "far" of ` + filepath.Join(home, ".kube", "config") + ")"},
		{map[string]string{}, "no kubeconfig"},
	} {
		_, err := Connect(context.Background(), ClientOptions{Getenv: func(k string) string { return tt.env[k] }})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Connect with the environment %v: %v, want %q", tt.env, err, tt.want)
		}
	}
}
