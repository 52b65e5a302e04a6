package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

func TestMonitorRender(t *testing.T) {
	proj := testsvc.CopyTree(t, example(t, "flask"))
	spec := "name = \"shop\"\n[monitor]\navailability = 99.9\nlatency = \"300ms\"\n[notify]\nwebhook = \"https://hooks.example/x\"\n"
	if err := os.WriteFile(filepath.Join(proj, "pyship.toml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mon")
	r := run(t, "monitor", "render", "--output-dir", out, "--agent-addr", "127.0.0.1:9999", "-o", "json", proj)
	if r.code != 0 {
		t.Fatalf("monitor render: exit %d: %s", r.code, r.err)
	}
	var res struct {
		App   string   `json:"app"`
		Files []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("json output %q: %v", r.out, err)
	}
	if res.App != "shop" || len(res.Files) != 4 {
		t.Errorf("json output %+v, want app shop and 4 files", res)
	}
	for name, want := range map[string]string{
		"rules.yml":        "PyshipSLOBurnFast",
		"alertmanager.yml": "api_url: https://hooks.example/x",
		"prometheus.yml":   "127.0.0.1:9999",
		"dashboard.json":   `"uid": "pyship-shop-`,
	} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want it to hold %q:\n%s", name, err, want, b)
		}
	}
}

func TestMonitorRenderBadInput(t *testing.T) {
	proj := testsvc.CopyTree(t, example(t, "flask"))
	if err := os.WriteFile(filepath.Join(proj, "pyship.toml"), []byte("[monitor]\nlatency = \"320ms\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mon")
	r := run(t, "monitor", "render", "--output-dir", out, proj)
	if r.code != ExitUsage || !strings.Contains(r.err, "pyship.toml:2:11: monitor.latency: must be a bucket bound") {
		t.Errorf("bad latency: exit %d, stderr %q; want 2 naming pyship.toml:2:11 monitor.latency", r.code, r.err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output folder was created for a bad spec (%v): nothing should be half-written", err)
	}
	r = run(t, "monitor", "render", proj)
	if r.code != ExitUsage || !strings.Contains(r.err, "output-dir") {
		t.Errorf("without --output-dir: exit %d, stderr %q; want 2 naming --output-dir", r.code, r.err)
	}
}
