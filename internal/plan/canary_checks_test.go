package plan

import (
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/spec"
)

// The PromQL checks and the burn-rate hold reach the plan as written (placeholders kept), with
// their evidence; without prometheus_url the plan warns where they would be asked.
func TestCanaryChecksInThePlan(t *testing.T) {
	proj := analyze(t, "procfile")
	src := "[deploy]\nstrategy = \"canary\"\ntarget = \"kubernetes\"\n\n[monitor]\navailability = 99.5\n\n[deploy.canary]\nmax_burn_rate = 14.4\n\n" +
		"[[deploy.canary.checks]]\nname = \"errors\"\nquery = 'sum(x{release=\"{{release}}\"})'\nmax = 0.5\n"
	sp, err := spec.Parse("pyship.toml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Assemble(sp, proj)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Deploy.Canary
	if len(c.Checks) != 1 || c.Checks[0].Query != `sum(x{release="{{release}}"})` || *c.Checks[0].Max != 0.5 || c.MaxBurnRate != 14.4 || c.Availability != 99.5 {
		t.Fatalf("canary %+v", c)
	}
	if e := p.Evidence["deploy.canary.checks"]; e.Line != 11 {
		t.Errorf("checks evidence %+v, want line 11", e)
	}
	found := false
	for _, w := range p.Warnings {
		found = found || strings.Contains(w, "need a Prometheus, and [deploy.canary] prometheus_url is not set")
	}
	if !found {
		t.Errorf("no warning about the missing prometheus_url: %q", p.Warnings)
	}
}
