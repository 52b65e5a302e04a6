package kube

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testImage = "registry.example/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// webPlan is a resolved Flask app served by gunicorn, as plan.Resolve would return it.
func webPlan(name, strategy string) *plan.Plan {
	return &plan.Plan{
		SchemaVersion: plan.SchemaVersion, Name: name, Version: "1.0.0",
		Run: plan.Run{Command: []string{"gunicorn", "app:app"}, Kind: "web", Framework: "flask",
			Server: "gunicorn", App: "app:app", Port: 8000, Workers: 2},
		Health:   plan.Health{Type: "http", Path: "/healthz", Interval: "2s", Timeout: "1s", StartupTimeout: "30s"},
		Config:   &plan.Folder{Path: "config"},
		Data:     []plan.DataFolder{{Path: "uploads", Persistent: true}, {Path: "cache"}},
		Env:      map[string]string{"LOG_LEVEL": "info"},
		Deploy:   plan.Deploy{Target: "kubernetes", Strategy: strategy, Replicas: 3, DrainTimeout: "20s", RollbackWindow: "5m"},
		Evidence: map[string]plan.Evidence{"run.workers": {Rule: "default"}},
	}
}

func fullOptions() Options {
	return Options{
		Namespace: "shop", Image: testImage, Host: "shop.example.com", ClusterIssuer: "letsencrypt",
		MaxReplicas: 6, ConfigFiles: map[string]string{"settings.toml": "debug = false\n"},
		Secrets: map[string]string{"DATABASE_URL": "postgres://u:p@db/shop"}, Monitoring: true,
	}
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]struct {
		plan *plan.Plan
		opts Options
		show bool
	}{
		"rolling-full":       {webPlan("shop", "rolling"), fullOptions(), false},
		"blue-green":         {webPlan("shop", "blue-green"), Options{Namespace: "shop", Image: testImage}, false},
		"canary-gateway-api": {webPlan("shop", "canary"), Options{Namespace: "shop", Image: testImage, Host: "shop.example.com", GatewayAPI: true, Gateway: "infra/public"}, false},
		"worker": {&plan.Plan{Name: "jobs", Run: plan.Run{Kind: "worker", Command: []string{"python", "worker.py"}},
			Health: plan.Health{Type: "process"}, Deploy: plan.Deploy{Strategy: "rolling", Replicas: 1}}, Options{Image: testImage}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := Render(tc.plan, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteYAML(&buf, b, tc.show); err != nil {
				t.Fatal(err)
			}
			// Rendering twice gives the same bytes.
			b2, _ := Render(tc.plan, tc.opts)
			var buf2 bytes.Buffer
			_ = WriteYAML(&buf2, b2, tc.show)
			if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
				t.Fatal("render is not deterministic")
			}
			golden := filepath.Join("testdata", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/kube -run TestRenderGolden -update)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("render differs from %s (rerun with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

func TestRenderRestrictedPodAndSecrets(t *testing.T) {
	b, err := Render(webPlan("shop", "rolling"), fullOptions())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, b, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "postgres://") {
		t.Error("render printed a secret value without --show-secrets")
	}
	for _, want := range []string{"readOnlyRootFilesystem: true", "runAsNonRoot: true", "- ALL", "type: RuntimeDefault",
		"automountServiceAccountToken: false", "mountPath: /tmp", "path: /healthz", "name: WEB_CONCURRENCY\n          value: \"3\"",
		"terminationGracePeriodSeconds: 30", "cert-manager.io/cluster-issuer: letsencrypt", "kind: HorizontalPodAutoscaler",
		"kind: ServiceMonitor", "kind: PersistentVolumeClaim", "kind: NetworkPolicy", "port: 8000"} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q", want)
		}
	}
	// A config change changes the pod template, so the pods roll.
	o := fullOptions()
	o.ConfigFiles = map[string]string{"settings.toml": "debug = true\n"}
	b2, _ := Render(webPlan("shop", "rolling"), o)
	h1, _, _ := unstructuredString(b.Deployment().Object, "spec", "template", "metadata", "annotations", AnnotationConfigHash)
	h2, _, _ := unstructuredString(b2.Deployment().Object, "spec", "template", "metadata", "annotations", AnnotationConfigHash)
	if h1 == "" || h1 == h2 {
		t.Errorf("config hash in the pod template did not change with the config: %q → %q", h1, h2)
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	if _, err := Render(webPlan("shop", "rolling"), Options{}); err == nil || !strings.Contains(err.Error(), "--image") {
		t.Errorf("no image: got %v, want an error naming --image", err)
	}
	if _, err := Render(webPlan("shop", "rolling"), Options{Image: testImage, CPULimit: "lots"}); err == nil || !strings.Contains(err.Error(), "cpu-limit") {
		t.Errorf("bad quantity: got %v, want an error naming cpu-limit", err)
	}
}
