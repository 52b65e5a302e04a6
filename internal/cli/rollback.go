package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/spf13/cobra"
)

func newRollbackCmd(s *streams) *cobra.Command {
	var o localOptions
	var tf targetFlags
	var output string
	var force bool
	var data dataRollback
	cmd := &cobra.Command{
		Use:   "rollback [RELEASE]",
		Short: "Serve an earlier release again (default: the last good one before the stable release)",
		Long: `Roll back to RELEASE (default: the newest release before the stable one that was deployed
successfully; releases whose deploy failed are skipped). A release still warm
from a blue-green deploy switches back at once; otherwise its replicas start, pass their health
gate, and then get all traffic.

On Kubernetes the previous release comes back: the saved Deployment of the release before
the active one for the rolling strategy, the previous release's pods behind the Service for
blue-green and canary. The two releases swap places: a second rollback undoes the first.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			ka, err := tf.kube(ctx, s, o.app)
			if err != nil {
				return err
			}
			if ka != nil {
				release := ""
				if len(args) == 1 {
					release = args[0]
				}
				return kubeRollback(ctx, s, ka, release, output, &data)
			}
			c, err := o.client(ctx, s)
			if err != nil {
				return err
			}
			if err := o.resolveApp(ctx, c); err != nil {
				return err
			}
			st, err := c.Status(ctx, o.app)
			if err != nil {
				return err
			}
			stable := ""
			if len(st) == 1 {
				stable = st[0].Stable
			}
			paths := release.Paths{Home: o.home}
			ids := release.List(paths, o.app)
			promoted := release.Promotions(paths, o.app, ids)
			target := ""
			if len(args) == 1 {
				target = args[0]
				if err := release.CheckRollback(o.app, ids, promoted, stable, target, force); err != nil {
					return err
				}
			} else if target = release.RollbackTarget(ids, promoted, stable); target == "" {
				return fmt.Errorf("%s has no successfully deployed release before the stable one to roll back to (pyship status lists releases; name one: pyship rollback RELEASE)", o.app)
			}
			if err := data.restore(ctx, s, c, o.home, o.app, target); err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "rolling %s back to %s\n", o.app, target)
			ev := newEventPrinter(s.Err)
			defer s.intr.on(abortOnInterrupt(ctx, s, c, o.app, target))()
			final, err := c.Deploy(ctx, agent.DeployRequest{App: o.app, Release: target, Rollback: true}, ev.print)
			ev.close()
			if err != nil {
				return detachedOr(s, o.app, target, err)
			}
			return reportDeploy(s, output, final, ev)
		},
	}
	o.addFlags(cmd, true)
	tf.add(cmd.Flags())
	data.add(cmd.Flags())
	addForceConflicts(cmd.Flags(), &tf.force)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().BoolVar(&force, "force", false, "roll back to a named release even if it was never promoted (its deploy failed or was aborted)")
	return cmd
}
