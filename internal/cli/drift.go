package cli

import (
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/spf13/cobra"
)

// driftOptions are the inputs of `drift`.
type driftOptions struct {
	rf        renderFlags
	at        changeTarget
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
kubernetes with a cluster flag, else [deploy] target).

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
			p, err := o.rf.resolve(cmd.Context(), args, s.In)
			if err != nil {
				return err
			}
			o.at.render = o.rf.opts
			t, err := o.at.open(cmd.Context(), s, p)
			if err != nil {
				return err
			}
			r, err := t.Drift(cmd.Context(), p, o.reconcile)
			if err != nil {
				return err
			}
			if o.webhook != "" {
				if err := r.Notify(cmd.Context(), o.webhook, p.Name); err != nil {
					fmt.Fprintf(s.Err, "warning: %v\n", err)
				}
			}
			return o.print(s, r.Drifts)
		},
	}
	o.rf.add(cmd.Flags())
	o.at.cluster.add(cmd.Flags())
	cmd.Flags().StringVar(&o.at.target, "target", "", "local or kubernetes (default: kubernetes with a cluster flag, else [deploy] target)")
	cmd.Flags().StringVar(&o.at.home, "home", "", "local: pyship's state folder (default $PYSHIP_HOME or ~/.local/share/pyship)")
	cmd.Flags().BoolVar(&o.reconcile, "reconcile", false, "put back what pyship applied, taking the fields back from other managers")
	cmd.Flags().StringVar(&o.webhook, "webhook", "", "post the drift found to this Slack-compatible webhook URL")
	o.out.register(cmd)
	return cmd
}

// print lists the drifts, says what they mean and exits 1 when there are some.
func (o *driftOptions) print(s *streams, drifts []gitops.Drift) error {
	if o.out.json() {
		if err := writeJSON(s.Out, drifts); err != nil {
			return err
		}
		return driftExit(drifts)
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
	return driftExit(drifts)
}

// driftExit is drift's exit status: 1 when something drifted.
func driftExit(drifts []gitops.Drift) error {
	if len(drifts) > 0 {
		return exitError{ExitFailure}
	}
	return nil
}
