package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/spf13/cobra"
)

// gitOpsPromote are the inputs of `gitops promote`.
type gitOpsPromote struct {
	from, to, namespace string
	skipHealth          bool
	repo, root, author  string
	ageRecipients       []string
	cluster             clusterFlags
	target              gitops.Target
}

func newGitOpsPromoteCmd(s *streams) *cobra.Command {
	var o gitOpsPromote
	cmd := &cobra.Command{
		Use:   "promote DIR... --from ENV --to ENV --repo URL",
		Short: "Move the release an env runs to the next env, in one commit for several apps",
		Long: `promote writes, for each app in DIR..., the folder of --to with the exact image (by digest)
and SBOM that --from's folder records, rendered from the same source: the app's project must be
at the commit --from was built from, so the config is the same too. Nothing is rebuilt. All
apps go in one commit (on its own branch with --branch).

It refuses when --from's last deploy failed: the cluster (--kubeconfig, --context, -n: where
--from runs) must run --from's image with every pod ready, and its rollout state must not record
a failure. --skip-health-check promotes without looking.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := o.run(cmd.Context(), s, args, reproduceCommand(cmd))
			if err != nil {
				return err
			}
			return printPublish(s, res, "apps/.../"+o.to)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "the env to promote from (its folder's provenance gives the image)")
	f.StringVar(&o.to, "to", "", "the env to promote to")
	f.BoolVar(&o.skipHealth, "skip-health-check", false, "promote without checking that --from runs its release healthily")
	f.StringVar(&o.namespace, "to-namespace", "", "namespace of --to's objects (default its [kubernetes] namespace, else \"default\")")
	f.StringSliceVar(&o.ageRecipients, "age-recipient", nil, "write Secrets SOPS-encrypted to this age public key (repeatable)")
	o.cluster.add(f)
	addGitTargetFlags(f, &o.repo, &o.root, &o.author, &o.target)
	return cmd
}

func (o *gitOpsPromote) run(ctx context.Context, s *streams, dirs []string, command string) (*gitops.Result, error) {
	if o.from == "" || o.to == "" || o.from == o.to {
		return nil, usageError{fmt.Errorf("give two different envs: --from ENV --to ENV")}
	}
	if err := gitTarget(&o.target, o.repo, o.author, s.getenv); err != nil {
		return nil, err
	}
	var ins []gitops.Input
	for _, dir := range dirs {
		in, err := o.app(ctx, s, dir, command)
		if err != nil {
			return nil, err
		}
		ins = append(ins, *in)
	}
	return gitops.Promote(ctx, o.target, o.root, o.from, ins)
}

// app checks one app's source env and renders it for the target env with the source's image
// (gitops.Promotion).
func (o *gitOpsPromote) app(ctx context.Context, s *streams, dir, command string) (*gitops.Input, error) {
	p, err := planSource{dir: dir, env: o.to, in: s.In}.load(ctx)
	if err != nil {
		return nil, err
	}
	pr := gitops.Promotion{Target: o.target, Root: o.root, From: o.from, To: o.to, Plan: p, Command: command, AgeRecipients: o.ageRecipients,
		Render: func(p *plan.Plan, img string) (*kube.Bundle, error) {
			rf := renderFlags{env: o.to}
			rf.opts.Image = img
			return rf.bundle(s, p, o.namespace)
		}}
	if !o.skipHealth {
		pr.Status = func(ctx context.Context, app string) (*kube.AppStatus, error) {
			fromPlan, err := planSource{dir: dir, env: o.from, in: s.In}.load(ctx)
			if err != nil {
				return nil, err
			}
			c, err := o.cluster.connect(ctx, s, fromPlan)
			if err != nil {
				return nil, err
			}
			return c.Status(ctx, app)
		}
	}
	in, err := pr.Input(ctx)
	var ce *gitops.CommitError
	if errors.As(err, &ce) {
		return nil, usageError{err}
	}
	return in, err
}
