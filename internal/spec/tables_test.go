package spec

import "testing"

func TestCanaryChecks(t *testing.T) {
	src := `[deploy]
strategy = "canary"

[deploy.canary]
max_burn_rate = 14.4
# measured against [monitor] availability

[[deploy.canary.checks]]
name = "error-rate"
query = 'sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}",code=~"5.."}[1m])) / sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}"}[1m]))'
max = 0.01

[[deploy.canary.checks]]
name = "throughput"
query = 'sum(rate(pyship_requests_total{release="{{release}}"}[1m]))'
min = 1
max = 1e6

[monitor]
availability = 99.9
`
	s, err := Parse("pyship.toml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Deploy.Canary
	if len(c.Checks) != 2 || c.Checks[0].Name != "error-rate" || *c.Checks[0].Max != 0.01 || c.Checks[0].Min != nil ||
		*c.Checks[1].Min != 1 || c.Checks[1].Pos.Line != 13 || c.MaxBurnRate != 14.4 || s.Monitor.Availability != 99.9 {
		t.Errorf("decoded %+v", c)
	}
	// The same as an inline array.
	s, err = Parse("pyship.toml", []byte("[deploy.canary]\nchecks = [{name = \"up\", query = \"up\", min = 1}]\n"), "")
	if err != nil || len(s.Deploy.Canary.Checks) != 1 || *s.Deploy.Canary.Checks[0].Min != 1 {
		t.Errorf("inline: %+v %v", s, err)
	}
}

func TestCanaryCheckErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []wantErr
	}{
		{"query that does not parse", "[[deploy.canary.checks]]\nname = \"errors\"\nquery = 'sum(rate(x{app=\"{{app}}\"}[1m])'\nmax = 1\n",
			[]wantErr{{3, 9, "deploy.canary.checks[0].query", `check "errors": PromQL parse error at 1:`, "fix the PromQL"}}},
		{"unknown placeholder", "[[deploy.canary.checks]]\nname = \"errors\"\nquery = 'x{app=\"{{service}}\"}'\nmax = 1\n",
			[]wantErr{{3, 9, "deploy.canary.checks[0].query", "unknown placeholder {{service}}; use {{app}}, {{release}}, {{stable}}, {{namespace}}", ""}}},
		{"no threshold, no name", "[[deploy.canary.checks]]\nquery = 'up'\n",
			[]wantErr{{1, 1, "deploy.canary.checks[0].name", "a check needs a name", ""}, {1, 1, "deploy.canary.checks[0]", "has no threshold", "max"}}},
		{"duplicate name and bad key", "[[deploy.canary.checks]]\nname = \"a\"\nquery = 'up'\nmax = 1\n[[deploy.canary.checks]]\nname = \"a\"\nquery = 'up'\nmaxx = 1\n",
			[]wantErr{{8, 1, "deploy.canary.checks[1].maxx", "unknown key \"maxx\"", `did you mean "max"?`}}},
		{"duplicate name", "[[deploy.canary.checks]]\nname = \"a\"\nquery = 'up'\nmax = 1\n[[deploy.canary.checks]]\nname = \"a\"\nquery = 'up'\nmin = 2\nmax = 1\n",
			[]wantErr{{6, 8, "deploy.canary.checks[1].name", "already defined by deploy.canary.checks[0]", ""}, {8, 7, "deploy.canary.checks[1].min", "min 2 is above max 1", ""}}},
		{"wrong type", "[[deploy.canary.checks]]\nname = \"a\"\nquery = 'up'\nmax = \"1\"\n",
			[]wantErr{{4, 7, "deploy.canary.checks.max", "must be a float, got string", ""}}},
		{"array of tables elsewhere", "[[run]]\nport = 1\n",
			[]wantErr{{1, 1, "run", "[[run]] declares an array of tables", "[run]"}}},
		{"both forms", "[deploy.canary]\nchecks = []\n[[deploy.canary.checks]]\nname = \"a\"\n",
			[]wantErr{{3, 1, "deploy.canary.checks", "already set at line 2", "not both"}}},
		{"burn rate without objective", "[deploy.canary]\nmax_burn_rate = 10\n",
			[]wantErr{{2, 1, "deploy.canary.max_burn_rate", "needs an availability objective", "availability = 99.9"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("pyship.toml", []byte(tt.src), "")
			if s != nil {
				t.Errorf("got a spec with an error")
			}
			checkErrors(t, "pyship.toml", err, tt.want)
		})
	}
}
