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
		Plan: &plan.Plan{Name: "web"}, Bundle: in.Bundle, Live: map[string]string{"Deployment/web": "41", "Service/web": ""}}
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

	// Staleness: every kind of change is named.
	err = sp.CheckLive("web.plan", map[string]string{"Deployment/web": "45", "Service/web": "7", "ConfigMap/web-extra": "3"})
	if err == nil {
		t.Fatal("a changed live state was accepted")
	}
	for _, want := range []string{"Deployment/web changed (resourceVersion 41, now 45)", "Service/web was created", "ConfigMap/web-extra appeared"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the stale error lacks %q: %v", want, err)
		}
	}
	if err := sp.CheckLive("web.plan", map[string]string{"Deployment/web": "41", "Service/web": ""}); err != nil {
		t.Errorf("the unchanged live state: %v", err)
	}
}
