package cli

import (
	"context"

	"github.com/spf13/cobra"
)

func newDiffCmd(s *streams) *cobra.Command {
	var rf renderFlags
	var cf clusterFlags
	var force, detailed bool // detailed: the scheme diff always has, kept as a flag for scripts
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Show what deploying the app to Kubernetes would change (exit status 0 no changes, 2 changes, 1 an error)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := runDiff(cmd.Context(), s, &rf, &cf, args, force)
			return detailedExit(changed, err)
		},
	}
	rf.add(cmd.Flags())
	cf.add(cmd.Flags())
	addForceConflicts(cmd.Flags(), &force)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", true, "exit 0 with no changes, 2 with changes, 1 on an error, as terraform plan (always so; kept for scripts that pass it)")
	return cmd
}

// runDiff prints what deploying would change and reports whether anything would.
func runDiff(ctx context.Context, s *streams, rf *renderFlags, cf *clusterFlags, args []string, force bool) (bool, error) {
	p, err := rf.resolve(ctx, args, s.In)
	if err != nil {
		return false, err
	}
	c, err := cf.connect(ctx, s, p)
	if err != nil {
		return false, err
	}
	b, err := rf.bundle(s, p, c.Namespace)
	if err != nil {
		return false, err
	}
	diffs, err := c.Diff(ctx, b, force)
	if err != nil {
		return false, err
	}
	printDiffs(s, diffs)
	return len(diffs) > 0, nil
}
