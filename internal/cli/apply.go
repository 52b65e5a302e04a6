package cli

import (
	"cmp"
	"context"
	"fmt"
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
content of what it touches: anyone's change to spec, data, labels or annotations, not the
controllers' status writes; locally the agent's state serial for the app), one edited by
hand (its hash), one written by another plan format or a newer pyship, and with --app one of
another app.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sp, err := gitops.ReadPlan(args[0], version.String(), app)
			if err != nil {
				return usageError{err}
			}
			t, err := f.open(cmd.Context(), s, sp, args[0])
			if err != nil {
				return err
			}
			ev := newEventPrinter(s.Err)
			res, err := t.Apply(cmd.Context(), sp, args[0], platform.DeployOptions{Progress: s.Err, Events: ev.print, Interrupts: s.intr})
			ev.close()
			return reportResult(s, "text", sp.App, res, err, ev, "")
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "refuse a plan for another app than this one")
	cmd.Flags().DurationVar(&f.at.timeout, "timeout", 15*time.Minute, "kubernetes: how long the rollout may take")
	cmd.Flags().StringVar(&f.at.local.AdminAddr, "admin-addr", "127.0.0.1:9180", "local: admin address (/metrics) of the agent when apply starts it")
	cmd.Flags().StringVar(&f.at.local.Bind, "bind", "", "local: address public ports listen on, when apply starts the agent")
	f.at.cluster.add(cmd.Flags())
	return cmd
}

// applyFlags are apply's flags for either target of a saved plan.
type applyFlags struct {
	at changeTarget
}

// open is the target of the saved plan sp (read from file): its own target, on Kubernetes its
// namespace and (unless --context) context, locally its state folder.
func (f *applyFlags) open(ctx context.Context, s *streams, sp *gitops.SavedPlan, file string) (changer, error) {
	at := f.at
	at.target, at.home = sp.Target, sp.Home
	if sp.Target == string(platform.Kubernetes) {
		if n := at.cluster.opts.Namespace; n != "" && n != sp.Namespace {
			return nil, usageError{fmt.Errorf("the plan %s is for namespace %q, not %q (-n)", file, sp.Namespace, n)}
		}
		at.cluster.opts.Namespace = sp.Namespace
		at.cluster.opts.Context = cmp.Or(at.cluster.opts.Context, sp.Context)
	}
	return at.open(ctx, s, sp.Plan)
}
