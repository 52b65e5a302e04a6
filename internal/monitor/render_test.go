package monitor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// TestFilesPassTheRealTools writes every artefact and checks them with the tools that read
// them: promtool check rules and check config (which loads rules.yml too), amtool check-config.
func TestFilesPassTheRealTools(t *testing.T) {
	env := testsvc.Start(t, "prometheus")
	promtool := env["PYSHIP_TEST_PROMTOOL"]
	amtool := filepath.Join(filepath.Dir(env["PYSHIP_TEST_ALERTMANAGER_BIN"]), "amtool")
	for _, tt := range []struct {
		name string
		p    *plan.Plan
	}{
		{"both objectives and a webhook", &plan.Plan{Name: "shop", NotifyWebhook: "https://hooks.slack.com/services/T000/B000/XXXX",
			Monitor: &plan.Monitor{Window: "28d", Availability: 99.95, Latency: "1.5s", LatencyPercentile: 99}}},
		{"no [monitor], no webhook", &plan.Plan{Name: "worker-x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := monitor.Files(tt.p, monitor.Options{})
			if err != nil {
				t.Fatal(err)
			}
			paths, err := monitor.WriteFiles(dir, files)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range paths {
				names = append(names, filepath.Base(p))
			}
			if want := []string{"rules.yml", "alertmanager.yml", "prometheus.yml"}; !slices.Equal(names, want) {
				t.Errorf("wrote %v, want %v", names, want)
			}
			for _, c := range [][]string{
				{promtool, "check", "rules", filepath.Join(dir, monitor.RulesFile)},
				{promtool, "check", "config", filepath.Join(dir, monitor.PrometheusFile)},
				{amtool, "check-config", filepath.Join(dir, monitor.AlertmanagerFile)},
			} {
				out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "SUCCESS") {
					t.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
				}
			}
			st, err := os.Stat(filepath.Join(dir, monitor.AlertmanagerFile))
			if err != nil {
				t.Fatal(err)
			}
			if wantMode := map[bool]os.FileMode{true: 0o600, false: 0o644}[tt.p.NotifyWebhook != ""]; st.Mode().Perm() != wantMode {
				t.Errorf("alertmanager.yml mode %v, want %v (the webhook URL is a credential)", st.Mode().Perm(), wantMode)
			}
			rules, err := os.ReadFile(filepath.Join(dir, monitor.RulesFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{monitor.AlertAppDown, `pyship_replica_ready{app="` + tt.p.Name + `"}`} {
				if !strings.Contains(string(rules), want) {
					t.Errorf("rules.yml lacks %q", want)
				}
			}
			if tt.p.Monitor != nil {
				for _, want := range []string{"pyship_slo:sli_error:ratio_rate3d", "pyship_slo:error_budget_remaining:ratio",
					`le="1.5"`, "vector(0.9995)", "vector(0.99)", monitor.AlertBurnFast, monitor.AlertBurnSlow} {
					if !strings.Contains(string(rules), want) {
						t.Errorf("rules.yml lacks %q", want)
					}
				}
			}
		})
	}
}

// TestWriteFilesIsAtomic: a file already there is replaced whole and no temporary file is left.
func TestWriteFilesIsAtomic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte("old, and longer than the new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.WriteFiles(dir, []monitor.File{{Name: "rules.yml", Data: []byte("new\n")}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rules.yml"))
	if err != nil || string(b) != "new\n" {
		t.Fatalf("rules.yml = %q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files, want 1", len(entries))
	}
}

// TestWriteFilesAllOrNothing: when one file cannot be written, none is replaced and no
// temporary file is left.
func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := monitor.WriteFiles(dir, []monitor.File{{Name: "rules.yml", Data: []byte("new\n")}, {Name: "no-such-folder/alertmanager.yml", Data: []byte("x")}})
	if err == nil || !strings.Contains(err.Error(), "no-such-folder/alertmanager.yml") {
		t.Fatalf("err = %v, want one naming the file that could not be written", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "rules.yml"))
	if string(b) != "old\n" {
		t.Errorf("rules.yml = %q, want it untouched", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %d files, want only rules.yml", len(entries))
	}
}

// The local agent's stack serves several apps: one rules file with every app's groups, each
// app's alerts routed to its own webhook (checked with amtool's route tester), and apps
// without a webhook dropped.
func TestStackFilesPassTheRealTools(t *testing.T) {
	env := testsvc.Start(t, "prometheus")
	promtool := env["PYSHIP_TEST_PROMTOOL"]
	amtool := filepath.Join(filepath.Dir(env["PYSHIP_TEST_ALERTMANAGER_BIN"]), "amtool")
	plans := map[string]*plan.Plan{
		"shop":  {Name: "shop", NotifyWebhook: "https://hooks.example/shop", Monitor: &plan.Monitor{Window: "28d", Availability: 99.9}},
		"blog":  {Name: "blog", NotifyWebhook: "https://hooks.example/blog"},
		"batch": {Name: "batch"},
	}
	dir := t.TempDir()
	files, err := monitor.StackFiles(plans, monitor.Options{Agent: "127.0.0.1:9180", Alertmanager: "127.0.0.1:9093", ExtraRuleFiles: []string{"rules/*.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(filepath.Join(dir, monitor.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"pyship-slo-shop", "pyship-alerts-shop", "pyship-alerts-blog", "pyship-alerts-batch"} {
		if !strings.Contains(string(rules), "name: "+g+"\n") {
			t.Errorf("rules.yml has no group %s:\n%s", g, rules)
		}
	}
	for _, c := range [][]string{
		{promtool, "check", "rules", filepath.Join(dir, monitor.RulesFile)},
		{promtool, "check", "config", filepath.Join(dir, monitor.PrometheusFile)},
		{amtool, "check-config", filepath.Join(dir, monitor.AlertmanagerFile)},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	for app, want := range map[string]string{"shop": monitor.ReceiverWebhook + "-shop", "blog": monitor.ReceiverWebhook + "-blog", "batch": monitor.ReceiverNone} {
		out, err := exec.Command(amtool, "config", "routes", "test", "--config.file="+filepath.Join(dir, monitor.AlertmanagerFile), "alertname=PyshipSLOBurnFast", "app="+app).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("an alert of %s goes to %q (%v), want %s", app, strings.TrimSpace(string(out)), err, want)
		}
	}
}
