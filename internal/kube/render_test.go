package kube

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		Deploy:   plan.Deploy{Target: "kubernetes", Strategy: rollout.Strategy(strategy), Replicas: 3, DrainTimeout: "20s", RollbackWindow: "5m"},
		Evidence: map[string]plan.Evidence{"run.workers": {Rule: "default"}},
	}
}

// recreatePlan is webPlan with one replica and the recreate strategy: the single-writer answer
// to a ReadWriteOnce persistent data folder.
func recreatePlan() *plan.Plan {
	p := webPlan("shop", "recreate")
	p.Deploy.Replicas = 1
	return p
}

func fullOptions() Options {
	return Options{
		Namespace: "shop", Image: testImage, Host: "shop.example.com", ClusterIssuer: "letsencrypt",
		MaxReplicas: 6, ConfigFiles: map[string]string{"settings.toml": "debug = false\n"},
		Secrets: map[string]string{"DATABASE_URL": "postgres://u:p@db/shop"}, Monitoring: true, AgentImage: testAgentImage,
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
		"recreate":           {recreatePlan(), Options{Namespace: "shop", Image: testImage}, false},
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
		"kind: ServiceMonitor", "kind: PersistentVolumeClaim", "kind: NetworkPolicy", "port: 8080", "containerPort: 8000"} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q", want)
		}
	}
	// A config or secrets change changes the pod template's hash of them, so the pods roll.
	for ann, edit := range map[string]func(o *Options){
		AnnotationConfigHash: func(o *Options) { o.ConfigFiles = map[string]string{"settings.toml": "debug = true\n"} },
		AnnotationSecretHash: func(o *Options) { o.Secrets = map[string]string{"DATABASE_URL": "postgres://u:other@db/shop"} },
	} {
		o := fullOptions()
		edit(&o)
		b2, _ := Render(webPlan("shop", "rolling"), o)
		h1, _, _ := unstructuredString(b.Deployment().Object, "spec", "template", "metadata", "annotations", ann)
		h2, _, _ := unstructuredString(b2.Deployment().Object, "spec", "template", "metadata", "annotations", ann)
		if h1 == "" || h1 == h2 {
			t.Errorf("%s in the pod template did not change with its content: %q → %q", ann, h1, h2)
		}
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

// TestRenderWorkersFollowTheCPULimit resolves the example apps as `pyship deploy` does: the
// start command pyship generates passes --workers, so the container's command carries the
// count for the CPU limit (gunicorn 2×CPU+1, uvicorn one per CPU) unless [run] workers pins it.
func TestRenderWorkersFollowTheCPULimit(t *testing.T) {
	for _, tc := range []struct {
		example, cpuLimit string
		pinned            int
		want              []string
	}{
		{"flask", "2", 0, []string{"gunicorn", "--bind", "0.0.0.0:$(PORT)", "--workers", "5", "app:app"}},
		{"flask", "1500m", 0, []string{"gunicorn", "--bind", "0.0.0.0:$(PORT)", "--workers", "5", "app:app"}},
		{"flask", "4", 3, []string{"gunicorn", "--bind", "0.0.0.0:$(PORT)", "--workers", "3", "app:app"}},
		{"fastapi", "3", 0, []string{"uvicorn", "--host", "0.0.0.0", "--port", "$(PORT)", "--workers", "3"}},
	} {
		t.Run(tc.example+"-"+tc.cpuLimit, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", tc.example))); err != nil {
				t.Fatal(err)
			}
			if tc.pinned > 0 {
				spec := fmt.Sprintf("name = %q\n[run]\nworkers = %d\n", tc.example, tc.pinned)
				if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte(spec), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := plan.Resolve(context.Background(), dir, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(p.Run.Command, "--workers") {
				t.Fatalf("the plan's command %q has no --workers flag: the case tests nothing", p.Run.Command)
			}
			o := Options{Image: testImage, CPULimit: tc.cpuLimit}
			if err := LoadInputs(p, &o); err != nil {
				t.Fatal(err)
			}
			b, err := Render(p, o)
			if err != nil {
				t.Fatal(err)
			}
			cs, _, _ := unstructured.NestedSlice(b.Deployment().Object, "spec", "template", "spec", "containers")
			raw, _ := cs[0].(map[string]any)["command"].([]any)
			var got []string
			for _, a := range raw {
				got = append(got, a.(string))
			}
			if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("container command %q, want it to start %q (plan command %q)", got, tc.want, p.Run.Command)
			}
		})
	}
	// A command the user wrote keeps its own flags: the image's command runs.
	p := webPlan("shop", "rolling")
	p.Run.Command = []string{"gunicorn", "--workers", "7", "app:app"}
	b, err := Render(p, Options{Image: testImage, CPULimit: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if cmd, found, _ := unstructured.NestedSlice(b.Deployment().Object, "spec", "template", "spec", "containers"); found && cmd[0].(map[string]any)["command"] != nil {
		t.Errorf("a spec-written command was replaced: %v", cmd[0].(map[string]any)["command"])
	}
}

// TestReleaseFollowsThePodTemplate: any change to what the pods run is a new release (so
// blue-green and canary gate it), a change to what they do not run is the same release.
func TestReleaseFollowsThePodTemplate(t *testing.T) {
	release := func(edit func(p *plan.Plan, o *Options)) string {
		t.Helper()
		p, o := webPlan("shop", "blue-green"), fullOptions()
		edit(p, &o)
		b, err := Render(p, o)
		if err != nil {
			t.Fatal(err)
		}
		return b.Release
	}
	base := release(func(*plan.Plan, *Options) {})
	for name, edit := range map[string]func(p *plan.Plan, o *Options){
		"image": func(_ *plan.Plan, o *Options) { o.Image = image("99") },
		"env":   func(p *plan.Plan, _ *Options) { p.Env = map[string]string{"LOG_LEVEL": "debug"} },
		"secrets": func(_ *plan.Plan, o *Options) {
			o.Secrets = map[string]string{"DATABASE_URL": "postgres://u:other@db/shop"}
		},
		"config": func(_ *plan.Plan, o *Options) { o.ConfigFiles = map[string]string{"settings.toml": "debug = true\n"} },
		"memory": func(_ *plan.Plan, o *Options) { o.MemoryLimit = "1Gi" },
		"probes": func(p *plan.Plan, _ *Options) { p.Health.Path = "/ready" },
		"drain":  func(p *plan.Plan, _ *Options) { p.Deploy.DrainTimeout = "60s" },
	} {
		if got := release(edit); got == base {
			t.Errorf("changing the %s kept release %s", name, base)
		}
	}
	for name, edit := range map[string]func(p *plan.Plan, o *Options){
		"replicas":     func(p *plan.Plan, _ *Options) { p.Deploy.Replicas = 5 },
		"max-replicas": func(_ *plan.Plan, o *Options) { o.MaxReplicas = 9 },
		"host":         func(_ *plan.Plan, o *Options) { o.Host = "other.example.com" },
	} {
		if got := release(edit); got != base {
			t.Errorf("changing the %s made release %s of %s: the pods run the same", name, got, base)
		}
	}
}

// [kubernetes] access_mode reaches each persistent data folder's claim; ReadWriteOnce is the
// default.
func TestRenderVolumeAccessMode(t *testing.T) {
	for mode, want := range map[string]string{"": "ReadWriteOnce", "ReadWriteOnce": "ReadWriteOnce", "ReadWriteMany": "ReadWriteMany"} {
		p := webPlan("shop", "rolling")
		p.Data = []plan.DataFolder{{Path: "uploads", Persistent: true}}
		b, err := Render(p, Options{Image: testImage, AccessMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		for _, o := range b.Objects {
			if o.GetKind() == "PersistentVolumeClaim" {
				got, _, _ = unstructured.NestedSlice(o.Object, "spec", "accessModes")
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("access_mode %q: claim access modes %v, want [%s]", mode, got, want)
		}
	}
}

// TestRenderRefusesLocalAccessRules: access rules the cluster would not enforce are an error,
// not an open app.
func TestRenderRefusesLocalAccessRules(t *testing.T) {
	for _, e := range []plan.Edge{{Allow: []string{"10.0.0.0/8"}}, {BasicAuth: "USERS"}, {RateLimit: 5}} {
		p := webPlan("shop", "rolling")
		p.Edge = &e
		if _, err := Render(p, fullOptions()); err == nil || !strings.Contains(err.Error(), "[edge]") {
			t.Errorf("%+v: %v", e, err)
		}
	}
	p := webPlan("shop", "rolling")
	p.Edge = &plan.Edge{Hosts: []string{"shop.example.com"}}
	if _, err := Render(p, fullOptions()); err != nil {
		t.Errorf("[edge] hosts alone: %v", err)
	}
}

// ForKubectl gives tools without pyship's engine one Deployment APP for a rolling app, which
// its controller rolls in place; blue-green and canary keep their release Deployments.
func TestForKubectl(t *testing.T) {
	b, err := Render(webPlan("shop", "rolling"), fullOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Deployment().GetName(); got != DeploymentName("shop", b.Release) {
		t.Fatalf("the rendered Deployment is %s, want the release's", got)
	}
	k := ForKubectl(b)
	d := k.Deployment()
	sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
	hpa, _, _ := unstructured.NestedString(k.find("HorizontalPodAutoscaler", "").Object, "spec", "scaleTargetRef", "name")
	if d.GetName() != "shop" || len(sel) != 1 || sel[LabelName] != "shop" || hpa != "shop" {
		t.Errorf("for kubectl: Deployment %s selecting %v, autoscaler on %s; want shop, the app's pods, shop", d.GetName(), sel, hpa)
	}
	if b.Deployment().GetName() == "shop" {
		t.Error("ForKubectl changed the bundle it was given")
	}
	bg, _ := Render(webPlan("shop", "blue-green"), fullOptions())
	if ForKubectl(bg) != bg {
		t.Error("ForKubectl changed a blue-green bundle")
	}
	// Recreate: one Deployment APP too, whose own controller never surges (type Recreate),
	// so a ReadWriteOnce volume is free before the new pod is created.
	rb, err := Render(recreatePlan(), Options{Namespace: "shop", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	rd := ForKubectl(rb).Deployment()
	typ, _, _ := unstructured.NestedString(rd.Object, "spec", "strategy", "type")
	_, surge, _ := unstructured.NestedFieldNoCopy(rd.Object, "spec", "strategy", "rollingUpdate")
	if rd.GetName() != "shop" || typ != "Recreate" || surge {
		t.Errorf("recreate for kubectl: Deployment %s with strategy %q (rollingUpdate set: %v); want shop, Recreate, none", rd.GetName(), typ, surge)
	}
}
