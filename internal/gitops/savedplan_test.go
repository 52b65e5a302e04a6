package gitops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
)

func TestSavedPlanFile(t *testing.T) {
	in := testInput(t, "1.0")
	file := filepath.Join(t.TempDir(), "web.plan")
	sp := &SavedPlan{Pyship: "v1.2.0", App: "web", Target: "kubernetes", Namespace: "web", Image: testImage,
		Plan: &plan.Plan{Name: "web"}, Bundle: in.Bundle, Live: map[string]LiveObject{"Deployment/web": {Hash: "sha256:41", Managers: map[string]string{"pyship (Apply)": "2026-12-02T05:00:00Z"}}, "Service/web": {}}}
	if err := WritePlan(file, sp); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPlan(file, "v1.2.0", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Bundle.Objects) != len(in.Bundle.Objects) || got.Bundle.Objects[0].GetName() != in.Bundle.Objects[0].GetName() {
		t.Errorf("the objects did not survive the file: %d objects", len(got.Bundle.Objects))
	}
	if _, err := ReadPlan(file, "v1.1.9", ""); err == nil || !strings.Contains(err.Error(), "newer than this pyship v1.1.9") {
		t.Errorf("read by an older pyship: %v", err)
	}
	if _, err := ReadPlan(file, "dev", "api"); err == nil || !strings.Contains(err.Error(), `for the app "web", not "api"`) {
		t.Errorf("read for another app: %v", err)
	}
	b, _ := os.ReadFile(file)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["image"] = "registry.example/evil@sha256:" + strings.Repeat("2", 64)
	nb, _ := json.Marshal(m)
	if err := os.WriteFile(file, nb, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(file, "v1.2.0", ""); err == nil || !strings.Contains(err.Error(), "changed after pyship wrote it") {
		t.Errorf("an edited plan: %v", err)
	}
	if err := os.WriteFile(file, []byte(`{"app":"web"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(file, "v1.2.0", ""); err == nil || !strings.Contains(err.Error(), "not a saved plan") {
		t.Errorf("a JSON file that is no plan: %v", err)
	}

	// Staleness: every kind of change is named, with who made it where the managed fields tell.
	err = sp.CheckLive("web.plan", map[string]LiveObject{
		"Deployment/web": {Hash: "sha256:45", Managers: map[string]string{"pyship (Apply)": "2026-12-02T05:00:00Z", "someone (Update)": "2026-12-02T05:01:00Z"},
			Fields: map[string][]string{"pyship (Apply)": {"spec.template"}, "someone (Update)": {"spec.replicas"}}},
		"Service/web":         {Hash: "sha256:7"},
		"ConfigMap/web-extra": {Hash: "sha256:3"},
	})
	if err == nil {
		t.Fatal("a changed live state was accepted")
	}
	for _, want := range []string{"Deployment/web changed by someone (Update): spec.replicas;", "Service/web was created", "ConfigMap/web-extra appeared",
		"nothing was applied", "make a new plan with `pyship plan --out web.plan`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the stale error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "pyship (Apply)") {
		t.Errorf("the stale error names a manager that changed nothing: %v", err)
	}
	if err := sp.CheckLive("web.plan", map[string]LiveObject{"Deployment/web": sp.Live["Deployment/web"], "Service/web": {}}); err != nil {
		t.Errorf("the unchanged live state: %v", err)
	}
}

// TestSavedPlanFormats: a plan of an older format (resourceVersions) is refused with the way
// on, not as a file that is no plan.
func TestSavedPlanFormats(t *testing.T) {
	file := filepath.Join(t.TempDir(), "old.plan")
	if err := os.WriteFile(file, []byte(`{"pyshipPlanFormat":1,"pyship":"v1.0.0","app":"web","live":{"Deployment/web":"41"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(file, "v1.2.0", ""); err == nil || !strings.Contains(err.Error(), "older than this pyship's format") || !strings.Contains(err.Error(), "make a new plan") {
		t.Errorf("a format-1 plan: %v", err)
	}
}
