package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// A PromQL check that does not parse is rejected by `pyship check`, naming the check, the
// parser's message and where, before anything is deployed.
func TestCheckRejectsABadPromQLCheck(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"app.py": "print('hi')\n",
		"pyship.toml": "[deploy]\nstrategy = \"canary\"\n\n[[deploy.canary.checks]]\nname = \"error-rate\"\n" +
			"query = 'sum(rate(pyship_requests_total{release=\"{{release}}\"}[1m])'\nmax = 0.01\n",
	})
	r := run(t, "check", dir)
	if r.code == 0 || !strings.Contains(r.err, "pyship.toml:6:9") || !strings.Contains(r.err, `deploy.canary.checks[0].query`) ||
		!strings.Contains(r.err, `check "error-rate": PromQL parse error at 1:`) {
		t.Errorf("check: exit %d, stderr %q; want the check's name, field and the parser's position", r.code, r.err)
	}
}

// status shows each check's query as run, its value and threshold, in text and JSON.
func TestStatusExplainsTheChecks(t *testing.T) {
	v, limit := 0.2, 0.01
	d := rollout.Status{Phase: rollout.RollingBack, Spec: rollout.Spec{Release: "r2", Strategy: rollout.Canary},
		Message: "canary analysis failed: check error-rate: 0.2 is above the max 0.01",
		Analysis: &rollout.Verdict{Outcome: rollout.Fail, Reason: "check error-rate: 0.2 is above the max 0.01",
			Checks: []rollout.CheckResult{{Name: "error-rate", Query: `sum(x{release="r2"})`, Value: &v, Max: &limit, Outcome: rollout.Fail}}}}
	apps := []agent.AppStatus{{App: "web", Deploy: &d}}
	var b bytes.Buffer
	if err := writeStatus(&b, apps); err != nil {
		t.Fatal(err)
	}
	if want := "canary analysis: fail: check error-rate: 0.2 is above the max 0.01\n  check error-rate: fail, value 0.2, max 0.01, query sum(x{release=\"r2\"})\n"; !strings.Contains(b.String(), want) {
		t.Errorf("status:\n%s\nwant\n%s", b.String(), want)
	}
	js, err := json.Marshal(apps)
	if err != nil || !strings.Contains(string(js), `"checks":[{"name":"error-rate","query":"sum(x{release=\"r2\"})","value":0.2,"max":0.01,"outcome":"fail"`) {
		t.Errorf("JSON %s %v", js, err)
	}
}
