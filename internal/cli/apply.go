package cli

import (
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
)

func newApplyCmd(s *streams) *cobra.Command {
	var f applyFlags
	var app string
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply exactly the change saved by `pyship plan --out FILE`, unless the cluster changed since",
		Long: `apply deploys what FILE saved, with the saved plan's strategy and the deploy's own
workflow (backup before the deploy, Ctrl-C, a failing release diagnosed and rolled back): on
Kubernetes the objects as they were rendered and shown, on the local target the release the
plan built. It refuses a plan whose live state changed since it was made (on Kubernetes the
resourceVersions of what it touches, locally the agent's state serial for the app), one
edited by hand (its hash), one written by a newer pyship, and with --app one of another app.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sp, err := gitops.ReadPlan(args[0], version.String(), app)
			if err != nil {
				return usageError{err}
			}
			deploy, err := f.open(cmd.Context(), s, sp, args[0])
			if err != nil {
				return err
			}
			ev := newEventPrinter(s.Err)
			res, err := deploy(cmd.Context(), platform.DeployOptions{Progress: s.Err, Events: ev.print, Interrupts: s.intr})
			ev.close()
			return reportResult(s, "text", sp.App, res, err, ev, "")
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "refuse a plan for another app than this one")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 15*time.Minute, "kubernetes: how long the rollout may take")
	cmd.Flags().StringVar(&f.local.AdminAddr, "admin-addr", "127.0.0.1:9180", "local: admin address (/metrics) of the agent when apply starts it")
	cmd.Flags().StringVar(&f.local.Bind, "bind", "", "local: address public ports listen on, when apply starts the agent")
	f.cluster.add(cmd.Flags())
	return cmd
}
