package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/spf13/cobra"
)

type deployOptions struct {
	localOptions
	dir, planFile, env, strategy, python, adminAddr, bind string
	out                                                   outputFlag
	httpPort, httpsPort                                   int
	verbose                                               bool
	kube                                                  kubeDeployFlags
}

func newDeployCmd(s *streams) *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Build a release of the app in DIR and roll it out, on this machine or on Kubernetes",
		Long: `Build a release of the app in DIR (default .) and roll it out with the plan's strategy
(rolling, blue-green, canary or recreate), health-gated; a failing release is rolled back. Prints the
app's URL.

Target local (the default): the app's files and dependencies are installed for this machine's
Python and served behind pyship's reverse proxy on the app's port. Starts the pyship agent when
it is not running.

Target kubernetes ([deploy] target = "kubernetes" or --target kubernetes): the app is checked,
its image built and pushed as by 'pyship build --push' (or --image REF is used), rendered with
the image by digest and the [kubernetes] keys (the flags of the same name override them),
applied with server-side apply and rolled out; progress goes to stderr. The cluster is chosen
as kubectl does: --kubeconfig, --context, --namespace, else [kubernetes] context and namespace,
else the kubeconfig's.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			o.dir = dirArg(args)
			if _, err := deployTarget(o.kube.target, &plan.Plan{}); err != nil {
				return err
			}
			p, err := loadPlan(ctx, s.In, &o)
			if err != nil {
				return err
			}
			if err := checkPlan(p); err != nil {
				return err
			}
			plat, err := o.platform(ctx, s, p)
			if err != nil {
				return err
			}
			ev := newEventPrinter(s.Err)
			res, err := plat.Deploy(ctx, p, platform.DeployOptions{Progress: s.Err, Events: ev.print, Interrupts: s.intr,
				Python: o.python, Verbose: o.verbose})
			ev.close()
			return reportResult(s, o.out.String(), p.Name, res, err, ev, "")
		},
	}
	o.addFlags(cmd, false)
	f := cmd.Flags()
	f.StringVar(&o.planFile, "plan", "", "deploy the plan JSON in `FILE` (written by pyship plan --output json; - for stdin) instead of resolving DIR")
	f.StringVar(&o.env, "env", "", "apply the spec's [env.NAME] overlay")
	f.StringVar(&o.strategy, "strategy", "", "override the strategy: rolling, blue-green, canary or recreate")
	f.StringVar(&o.python, "python", "", "local: the Python interpreter to run the app with (default: the plan's version on PATH); kubernetes: the build host's Python with pip (default python3)")
	f.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:9180", "admin address (/metrics) of the agent when deploy starts it")
	f.StringVar(&o.bind, "bind", "", "address public ports listen on, when deploy starts the agent")
	f.IntVar(&o.httpPort, "http-port", 80, "HTTP port of the shared edge (apps with [edge] hosts), when deploy starts the agent")
	f.IntVar(&o.httpsPort, "https-port", 443, "HTTPS port of the shared edge, when deploy starts the agent")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show pip's output")
	o.kube.add(f)
	o.out.register(cmd)
	return cmd
}

func loadPlan(ctx context.Context, in io.Reader, o *deployOptions) (*plan.Plan, error) {
	return planSource{dir: o.dir, planFile: o.planFile, env: o.env, in: in,
		overrides: plan.Options{Strategy: o.strategy, Target: o.kube.target}}.load(ctx)
}

// checkPlan reports what makes a plan impossible to run locally.
func checkPlan(p *plan.Plan) error {
	var probs []string
	if p.Name == "" {
		probs = append(probs, "the app has no name (set name in pyship.toml)")
	}
	if len(p.Run.Command) == 0 {
		probs = append(probs, "there is no start command (set [run] command)")
	}
	if p.Run.Kind != "worker" && (p.Run.Port < 1 || p.Run.Port > 65535) {
		probs = append(probs, fmt.Sprintf("the public port %d is not in 1-65535 (set [run] port)", p.Run.Port))
	}
	if _, err := rollout.ParseStrategy(string(p.Deploy.Strategy)); err != nil {
		probs = append(probs, err.Error())
	}
	if p.SecretsFile != "" {
		abs, _ := filepath.Abs(p.SecretsFile)
		dir, _ := filepath.Abs(p.Dir)
		if strings.HasPrefix(abs, dir+string(filepath.Separator)) {
			probs = append(probs, fmt.Sprintf("the secrets file %s is inside the project: move it outside the repository ([secrets] file)", p.SecretsFile))
		}
	}
	if len(probs) > 0 {
		return usageError{fmt.Errorf("cannot deploy: %s", strings.Join(probs, "; "))}
	}
	return nil
}

// deployTarget is --target, else the plan's [deploy] target.
func deployTarget(flag string, p *plan.Plan) (string, error) {
	switch flag {
	case "":
		return p.Deploy.Target, nil
	case "local", "kubernetes":
		return flag, nil
	}
	return "", usageError{fmt.Errorf("--target %q: want local or kubernetes", flag)}
}
