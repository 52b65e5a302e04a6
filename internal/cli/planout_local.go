package cli

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform/localtarget"
	"github.com/pyship/pyship/internal/version"
)

// runLocal builds the release a local deploy would (kept in pyship's state folder, deployed
// as it is by `apply`), records the agent's state serial for the app, prints what would change
// and saves the plan with --out.
func (f *changeFlags) runLocal(ctx context.Context, s *streams, p *plan.Plan, env string) (bool, error) {
	if err := f.local.resolveHome(s.getenv); err != nil {
		return false, err
	}
	py, err := localtarget.Python(ctx, s.Err, p, f.python, s.environ())
	if err != nil {
		return false, err
	}
	if err := checkSyntax(ctx, s, p, "planning", image.Interpreter(ctx, py, s.environ())); err != nil {
		return false, err
	}
	m, err := release.Build(ctx, release.Paths{Home: f.local.home}, p, release.Options{Python: py, Env: s.environ()})
	if err != nil {
		return false, err
	}
	serial, stable, err := localSerial(ctx, f.local.home, p.Name)
	if err != nil {
		return false, err
	}
	changed := stable != m.ID
	if changed {
		from := stable
		if from == "" {
			from = "nothing deployed"
		}
		fmt.Fprintf(s.Out, "=== %s on this machine: release %s (%s) replaces %s\n", p.Name, m.ID, p.Version, from)
		fmt.Fprintln(s.Err, "1 release would change")
	} else {
		fmt.Fprintln(s.Err, "no changes")
	}
	if f.out == "" {
		return changed, nil
	}
	sp := &gitops.SavedPlan{Pyship: version.String(), App: p.Name, Env: env, Target: "local", Plan: p,
		Home: f.local.home, Release: m.ID, Stable: stable, Serial: serial}
	if err := gitops.WritePlan(f.out, sp); err != nil {
		return false, err
	}
	fmt.Fprintf(s.Err, "saved the plan to %s; apply exactly this release with `pyship apply %s`\n", f.out, f.out)
	return changed, nil
}

// localSerial is the agent's state serial and stable release of app: -1 when no agent runs,
// 0 when it does not know the app.
func localSerial(ctx context.Context, home, app string) (int64, string, error) {
	c := agent.NewClient(home)
	if c.Ping(ctx) != nil {
		return -1, "", nil
	}
	sts, err := c.Status(ctx, app)
	if err != nil {
		return 0, "", fmt.Errorf("reading the state of %s from the agent: %w", app, err)
	}
	for _, st := range sts {
		if st.App == app {
			return st.Serial, st.Stable, nil
		}
	}
	return 0, "", nil
}
