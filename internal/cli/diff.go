package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newDiffCmd(s *streams) *cobra.Command {
	var rf renderFlags
	var cf clusterFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Show what deploying the app to Kubernetes would change (exit status 1 when something would)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := rf.resolve(ctx, args, s.In)
			if err != nil {
				return err
			}
			c, err := cf.connect(ctx, s, p)
			if err != nil {
				return err
			}
			b, err := rf.bundle(s, p, c.Namespace)
			if err != nil {
				return err
			}
			diffs, err := c.Diff(ctx, b, force)
			if err != nil {
				return err
			}
			for _, d := range diffs {
				fmt.Fprintf(s.Out, "=== %s %s/%s\n%s", d.Action, d.Kind, d.Name, d.Text)
			}
			if len(diffs) > 0 {
				fmt.Fprintf(s.Err, "%d object(s) would change\n", len(diffs))
				return exitError{ExitFailure}
			}
			fmt.Fprintln(s.Err, "no changes")
			return nil
		},
	}
	rf.add(cmd.Flags())
	cf.add(cmd.Flags())
	addForceConflicts(cmd.Flags(), &force)
	return cmd
}
