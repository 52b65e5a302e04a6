package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/platform/kubetarget"
	"github.com/pyship/pyship/internal/platform/localtarget"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
)

func newApplyCmd(s *streams) *cobra.Command {
	var cf clusterFlags
	var app string
	var timeout time.Duration
	var ao localtarget.Options
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply exactly the change saved by `pyship plan --out FILE`, unless the cluster changed since",
		Long: `apply deploys what FILE saved, with the saved plan's strategy: on Kubernetes the objects
as they were rendered and shown, on the local target the release the plan built. It refuses a
plan whose live state changed since it was made (on Kubernetes the resourceVersions of what it
touches, locally the agent's state serial for the app), one edited by hand (its hash), one
written by a newer pyship, and with --app one of another app.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sp, err := gitops.ReadPlan(args[0], version.String(), app)
			if err != nil {
				return usageError{err}
			}
			if sp.Target == "local" {
				return applyLocal(cmd.Context(), s, ao, sp, args[0])
			}
			return applySaved(cmd.Context(), s, cf, sp, args[0], timeout)
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "refuse a plan for another app than this one")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "kubernetes: how long the rollout may take")
	cmd.Flags().StringVar(&ao.AdminAddr, "admin-addr", "127.0.0.1:9180", "local: admin address (/metrics) of the agent when apply starts it")
	cmd.Flags().StringVar(&ao.Bind, "bind", "", "local: address public ports listen on, when apply starts the agent")
	cf.add(cmd.Flags())
	return cmd
}

// applySaved checks the live state against the plan's fingerprint and deploys its objects.
func applySaved(ctx context.Context, s *streams, cf clusterFlags, sp *gitops.SavedPlan, file string, timeout time.Duration) error {
	if cf.opts.Namespace != "" && cf.opts.Namespace != sp.Namespace {
		return usageError{fmt.Errorf("the plan %s is for namespace %q, not %q (-n)", file, sp.Namespace, cf.opts.Namespace)}
	}
	cf.opts.Namespace = sp.Namespace
	if cf.opts.Context == "" {
		cf.opts.Context = sp.Context
	}
	c, err := cf.connect(ctx, s, nil)
	if err != nil {
		return err
	}
	live, err := gitops.Fingerprint(ctx, c, sp.Bundle)
	if err != nil {
		return err
	}
	if err := sp.CheckLive(file, live); err != nil {
		return err
	}
	progress := kubetarget.Progress(s.Err)
	progress("applying the saved plan %s: %s release %s to namespace %s (%s)", file, sp.App, sp.Bundle.Release, c.Namespace, sp.Bundle.Strategy)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Deploy(dctx, sp.Bundle, kube.DeployOptionsFor(sp.Plan, progress)); err != nil {
		return fmt.Errorf("applying the plan %s: %w", file, err)
	}
	progress("%s release %s is live in namespace %s", sp.App, sp.Bundle.Release, c.Namespace)
	return nil
}

// applyLocal deploys the release a local saved plan built, unless the agent's state for the app
// moved since the plan or the release is gone.
func applyLocal(ctx context.Context, s *streams, ao localtarget.Options, sp *gitops.SavedPlan, file string) error {
	ao.Home = sp.Home
	if _, err := release.Load(release.Paths{Home: sp.Home}, sp.App, sp.Release); err != nil {
		return usageError{fmt.Errorf("the release %s the plan %s built is gone from %s (pruned?): make a new plan: %w", sp.Release, file, sp.Home, err)}
	}
	serial, _, err := localSerial(ctx, sp.Home, sp.App)
	if err != nil {
		return err
	}
	if err := sp.CheckSerial(file, serial); err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "applying the saved plan %s: %s release %s\n", file, sp.App, sp.Release)
	ev := newEventPrinter(s.Err)
	res, err := localtarget.New(ao).DeployRelease(ctx, sp.App, sp.Release, platform.DeployOptions{Progress: s.Err, Events: ev.print, Interrupts: s.intr})
	ev.close()
	return reportResult(s, "text", sp.App, res, err, ev, "")
}
