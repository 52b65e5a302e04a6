package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/cobra"
)

type planOptions struct {
	env     string
	explain bool
	out     outputFlag
	change  changeFlags
}

func newPlanCmd(s *streams) *cobra.Command {
	o := &planOptions{}
	c := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show the resolved app: what pyship will build and run",
		Long: `Plan resolves the app in DIR (default: the current folder) from its spec (pyship.toml or
[tool.pyship] in pyproject.toml) and what it detects in the project, and prints the result:
name, version, Python version, dependencies, start command, port, health check, config and data
folders, target, strategy and replicas.

--explain adds the evidence for each value (file:line and the rule that decided).
--output json prints the plan as a stable JSON document (see docs/plan-json.md).

--env all prints one table of every value that differs between the environments (and the
spec without an overlay).

--out FILE diffs the app rendered with --image against the cluster (pushing pyship's agent
image beside it when the objects run it, as deploy does), prints the diff and saves the change
for 'pyship apply FILE', which applies exactly it, or refuses when the cluster changed since;
on the local target it builds the release and saves it. --detailed-exitcode exits 0 with no changes, 2 with changes, 1 on an error.`,
		Example: `  pyship plan
  pyship plan --explain examples/flask
  pyship plan --env production --output json | jq .run.command`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.out.validate(); err != nil {
				return err
			}
			if o.env == "all" {
				return planAllEnvs(cmd.Context(), s, dirArg(args), o.out.json())
			}
			p, err := resolvePlan(cmd.Context(), dirArg(args), o.env)
			if o.change.wanted() {
				if err == nil {
					var changed bool
					changed, err = o.change.run(cmd.Context(), s, p, o.env)
					if o.change.detailed {
						return detailedExit(changed, err)
					}
				}
				return err
			}
			if err != nil {
				return alsoUnparsable(cmd.Context(), s, dirArg(args), o.env, err)
			}
			broken := brokenEntry(cmd.Context(), s, p)
			if o.out.json() {
				err = writeJSON(s.Out, p)
			} else {
				err = plan.WriteText(s.Out, p, o.explain)
			}
			if err == nil && broken {
				return exitError{ExitFailure}
			}
			return err
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "apply the [env.NAME] overlay of the spec; \"all\": a table of every value that differs between the envs")
	c.Flags().BoolVar(&o.explain, "explain", false, "show the evidence for each value")
	o.out.register(c)
	o.change.add(c.Flags())
	return c
}

// alsoUnparsable adds to err, the detection problem that stopped plan, the first syntax error
// of the project's files when there is one: what detection read may come from a file Python
// rejects (a Flask app whose file does not parse, in a project without gunicorn). Spec and
// project-folder errors are returned as they are.
func alsoUnparsable(ctx context.Context, s *streams, dir, env string, err error) error {
	var se spec.Errors
	var pde *plan.ProjectDirError
	if errors.As(err, &se) || errors.As(err, &pde) {
		return err
	}
	p, _, perr := plan.ResolvePartial(ctx, dir, plan.Options{Env: env})
	if perr != nil || p == nil {
		return err
	}
	rep, cerr := pybuild.CheckApp(ctx, p, s.environ())
	if cerr != nil || len(rep.Errors) == 0 {
		return err
	}
	return fmt.Errorf("%w\n%s: and the project does not parse, which may be why (pyship check lists every syntax error)", err, rep.Errors[0])
}

// brokenEntry adds a warning to p when its entry file does not parse (what plan shows of the
// kind, framework and port then rests on a file Python rejects) and reports whether it did.
// No Python to check with is no finding: build and deploy check every file anyway.
func brokenEntry(ctx context.Context, s *streams, p *plan.Plan) bool {
	errs, err := pybuild.CheckEntry(ctx, p, s.environ())
	if err != nil || len(errs) == 0 {
		return false
	}
	p.Warnings = append(p.Warnings, fmt.Sprintf("%s: the entry file does not parse, so the kind (%s), start command and port above were read from a broken file and may be wrong; fix it (pyship check lists every syntax error)", errs[0], p.Run.Kind))
	return true
}
