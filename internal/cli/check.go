package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	env string
	out outputFlag
}

func newCheckCmd(s *streams) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   "check [DIR]",
		Short: "Refuse broken code: compile every Python file of the app",
		Long: `Check resolves the app in DIR (default: the current folder) and compiles every .py file that
ships with it (the same files the image and the local release get), without running or importing
anything. Each syntax error is printed as path:line:col: message.

The files are compiled whatever detection says: when pyship cannot tell how the app starts (no
entry point, an ASGI app without uvicorn...), check reports that too, after the syntax errors.

Exit status: 0 when every file compiles and the app resolves, 1 when there are syntax errors or
detection problems, 2 for a bad spec or flags.
Every build and deploy runs the same check first and refuses to go on.`,
		Example: `  pyship check
  pyship check examples/django --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.out.validate(); err != nil {
				return err
			}
			p, problem, err := plan.ResolvePartial(cmd.Context(), dirArg(args), plan.Options{Env: o.env})
			if err != nil {
				return specUsageError(err)
			}
			rep, err := pybuild.CheckApp(cmd.Context(), p, s.environ())
			if err != nil {
				return err
			}
			if problem != nil {
				rep.Problems = []string{problem.Error()}
			}
			if o.out.json() {
				if err := writeJSON(s.Out, rep); err != nil {
					return err
				}
			} else {
				for _, n := range rep.Notes {
					fmt.Fprintf(s.Err, "note: %s\n", n)
				}
				for _, e := range rep.Errors {
					fmt.Fprintln(s.Out, e.String())
				}
				fmt.Fprintf(s.Err, "checked %d Python files with %s: %d syntax errors\n", rep.Files, rep.Python, len(rep.Errors))
			}
			if problem != nil && !o.out.json() {
				return problem
			}
			if len(rep.Errors) > 0 || problem != nil {
				return exitError{ExitFailure}
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "apply the [env.NAME] overlay of the spec")
	o.out.register(c)
	return c
}
