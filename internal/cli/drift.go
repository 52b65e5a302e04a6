package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/notify"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform/kubetarget"
	"github.com/spf13/cobra"
)

// driftOptions are the inputs of `drift`.
type driftOptions struct {
	rf        renderFlags
	cf        clusterFlags
	local     localOptions
	target    string
	reconcile bool
	webhook   string
	out       outputFlag
}

func newDriftCmd(s *streams) *cobra.Command {
	var o driftOptions
	cmd := &cobra.Command{
		Use:   "drift [DIR]",
		Short: "List what changed in the running app out of band (exit status 1 when something did)",
		Long: `drift lists what changed in the running app outside pyship, on its target (--target, else
[deploy] target).

On Kubernetes: the fields of the app's live objects that another field manager than pyship's
owns: replicas scaled with kubectl scale, env edited with kubectl set env or kubectl edit,
another tool's apply. Status and an autoscaler's replicas are not drift.

On the local target: the stable release's replicas against its recorded replica count, each
replica's environment against the release's recorded env, and processes marked as replicas of
this state folder that the agent does not know. --reconcile ends those processes and restarts
replicas whose environment differs (the agent starts them again from the record).

--webhook URL posts the findings (a Slack-compatible message). --reconcile puts back
what pyship applied (the app rendered again, with the image the live Deployment records unless
--image, applied taking the fields back) and lists what is left: fields pyship does not set,
which only their owner, or a hand, can remove.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.out.validate(); err != nil {
				return err
			}
			drifts, err := o.run(cmd.Context(), s, args)
			if err != nil {
				return err
			}
			if len(drifts) > 0 {
				return exitError{ExitFailure}
			}
			return nil
		},
	}
	o.rf.add(cmd.Flags())
	o.cf.add(cmd.Flags())
	cmd.Flags().StringVar(&o.target, "target", "", "local or kubernetes (default [deploy] target)")
	cmd.Flags().StringVar(&o.local.home, "home", "", "local: pyship's state folder (default $PYSHIP_HOME or ~/.local/share/pyship)")
	cmd.Flags().BoolVar(&o.reconcile, "reconcile", false, "put back what pyship applied, taking the fields back from other managers")
	cmd.Flags().StringVar(&o.webhook, "webhook", "", "post the drift found to this Slack-compatible webhook URL")
	o.out.register(cmd)
	return cmd
}

func (o *driftOptions) run(ctx context.Context, s *streams, args []string) ([]gitops.Drift, error) {
	p, err := o.rf.resolve(ctx, args, s.In)
	if err != nil {
		return nil, err
	}
	target, err := deployTarget(o.target, p)
	if err != nil {
		return nil, err
	}
	where := "on this machine"
	var drifts []gitops.Drift
	if target == "local" {
		if drifts, err = o.runLocal(ctx, s, p.Name); err != nil {
			return nil, err
		}
	} else {
		c, err := o.cf.connect(ctx, s, p)
		if err != nil {
			return nil, err
		}
		where = "in namespace " + c.Namespace
		if drifts, err = gitops.DetectDrift(ctx, c, p.Name); err != nil {
			return nil, err
		}
		if o.reconcile && len(drifts) > 0 {
			if err := o.restore(ctx, s, c, p); err != nil {
				return nil, err
			}
			if drifts, err = gitops.DetectDrift(ctx, c, p.Name); err != nil {
				return nil, err
			}
		}
	}
	if o.webhook != "" && len(drifts) > 0 {
		var fields [][2]string
		for _, d := range drifts {
			fields = append(fields, [2]string{d.Kind + "/" + d.Name + " by " + d.Manager, strings.Join(d.Fields, ", ")})
		}
		if err := notify.Webhook(ctx, o.webhook, fmt.Sprintf("%s %s drifted: %d change(s) made outside pyship", p.Name, where, len(drifts)), fields); err != nil {
			fmt.Fprintf(s.Err, "warning: %v\n", err)
		}
	}
	if o.out.json() {
		return drifts, writeJSON(s.Out, drifts)
	}
	for _, d := range drifts {
		how := d.Operation
		if d.Subresource != "" {
			how += " of " + d.Subresource
		}
		if how == "" {
			fmt.Fprintf(s.Out, "%s/%s changed %s: %s\n", d.Kind, d.Name, d.Manager, strings.Join(d.Fields, ", "))
			continue
		}
		fmt.Fprintf(s.Out, "%s/%s changed by %s (%s): %s\n", d.Kind, d.Name, d.Manager, how, strings.Join(d.Fields, ", "))
	}
	switch {
	case len(drifts) == 0 && o.reconcile:
		fmt.Fprintln(s.Err, "no drift (after reconciling)")
	case len(drifts) == 0:
		fmt.Fprintln(s.Err, "no drift")
	case o.reconcile:
		fmt.Fprintf(s.Err, "%d change(s) left after reconciling: fields pyship does not set\n", len(drifts))
	default:
		fmt.Fprintf(s.Err, "%d change(s) made outside pyship; --reconcile puts pyship's back\n", len(drifts))
	}
	return drifts, nil
}

// restore renders the app again with the image its live Deployment runs (or --image) and
// applies it, taking back the fields other managers own.
func (o *driftOptions) restore(ctx context.Context, s *streams, c *kube.Client, p *plan.Plan) error {
	if o.rf.opts.Image == "" {
		st, err := c.Status(ctx, p.Name)
		if err != nil {
			return err
		}
		for _, r := range st.Releases {
			if o.rf.opts.Image == "" || r.Role == "active" {
				o.rf.opts.Image = r.Image
			}
		}
		if o.rf.opts.Image == "" {
			return usageError{fmt.Errorf("--reconcile: %s runs no Deployment to read its image from; pass --image", p.Name)}
		}
	}
	b, err := o.rf.bundle(s, p, c.Namespace)
	if err != nil {
		return err
	}
	if _, err := c.Apply(ctx, b, kube.ApplyOptions{Force: true, Progress: kubetarget.Progress(s.Err)}); err != nil {
		return fmt.Errorf("reconciling %s: %w", p.Name, err)
	}
	return nil
}
