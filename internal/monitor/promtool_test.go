package monitor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	"gopkg.in/yaml.v3"
)

// The unit test file format of `promtool test rules`.
type ruleTestFile struct {
	RuleFiles          []string   `yaml:"rule_files"`
	EvaluationInterval string     `yaml:"evaluation_interval"`
	GroupEvalOrder     []string   `yaml:"group_eval_order,omitempty"`
	Tests              []ruleTest `yaml:"tests"`
}

type ruleTest struct {
	Name          string          `yaml:"name"`
	Interval      string          `yaml:"interval"`
	InputSeries   []inputSeries   `yaml:"input_series"`
	AlertRuleTest []alertRuleTest `yaml:"alert_rule_test"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertRuleTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// promtool is the promtool of the prometheus test service.
func promtool(t *testing.T) string {
	t.Helper()
	env := testsvc.Start(t, "prometheus")
	bin := env["PYSHIP_TEST_PROMTOOL"]
	if bin == "" {
		t.Fatal("scripts/services start prometheus exported no PYSHIP_TEST_PROMTOOL")
	}
	return bin
}

// run runs a tool and fails the test with its output when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// writeRules writes the rules of app with m into dir/rules.yml.
func writeRules(t *testing.T, dir, app string, m *plan.Monitor, o RuleOptions) {
	t.Helper()
	f, err := Rules(app, m, o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := marshalYAML(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, RulesFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// counters are the proxy's series of one release at per-minute increments: requests answered
// by the app (200s, and 5xx of code), the proxy's own errors, and the latency histogram's
// bucket le and count.
func counters(app string, okPerMin, errPerMin, proxyErrPerMin, fastPerMin int, code, le string, minutes int) []inputSeries {
	sel := `app="` + app + `",release="r1"`
	n := strconv.Itoa(minutes)
	return []inputSeries{
		{`pyship_requests_total{` + sel + `,code="200"}`, "0+" + strconv.Itoa(okPerMin) + "x" + n},
		{`pyship_requests_total{` + sel + `,code="` + code + `"}`, "0+" + strconv.Itoa(errPerMin) + "x" + n},
		{`pyship_proxy_errors_total{` + sel + `,code="` + code + `"}`, "0+" + strconv.Itoa(proxyErrPerMin) + "x" + n},
		{`pyship_request_duration_seconds_count{` + sel + `}`, "0+" + strconv.Itoa(okPerMin+errPerMin+proxyErrPerMin) + "x" + n},
		{`pyship_request_duration_seconds_bucket{` + sel + `,le="` + le + `"}`, "0+" + strconv.Itoa(fastPerMin) + "x" + n},
	}
}

// promtoolTest writes tests beside dir/rules.yml and runs `promtool test rules` on them.
func promtoolTest(t *testing.T, bin, dir string, tests ...ruleTest) {
	t.Helper()
	// Prometheus runs each group on its own ticker, so an alert group sees the recordings of
	// the previous evaluation at the latest; promtool orders groups at random unless told.
	// The file's order (recordings first) is the one the expected figures assume.
	rules, err := os.ReadFile(filepath.Join(dir, RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	var f RuleFile
	if err := yaml.Unmarshal(rules, &f); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, g := range f.Groups {
		order = append(order, g.Name)
	}
	data, err := yaml.Marshal(ruleTestFile{RuleFiles: []string{RulesFile}, EvaluationInterval: "1m", GroupEvalOrder: order, Tests: tests})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tests.yml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, bin, "test", "rules", file)
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules: %s", out)
	}
}
