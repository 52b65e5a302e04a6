package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/platform/kubetarget"
	"github.com/pyship/pyship/internal/platform/localtarget"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// This file is the one place where a verb's platform is chosen: the local agent or a
// Kubernetes cluster. The verbs fill options and call the platform.Platform it returns.

// appFlags are the flags of the verbs that act on a deployed app: which app, and where.
type appFlags struct {
	localOptions
	targetFlags
	// dir is the project folder DIR the verb was given, "" for the current folder.
	dir string
}

// project is the folder whose project the verb acts on: DIR, else the current folder (or the
// folder above it that holds the spec, spec.ProjectRoot).
func (f *appFlags) project() string { return spec.ProjectRoot(cmp.Or(f.dir, ".")) }

func (f *appFlags) add(cmd *cobra.Command) {
	f.localOptions.addFlags(cmd, true)
	f.targetFlags.add(cmd.Flags())
}

// open returns the platform the verb acts on and the app: --app, else the project in DIR or
// the current folder, else (local target) the only app deployed. With all, "" stays "" (every
// app, as status shows them).
func (f *appFlags) open(ctx context.Context, s *streams, all bool) (platform.Platform, string, error) {
	ch, err := f.targetFlags.choose(f.project())
	if err != nil {
		return nil, "", err
	}
	if ch.target == platform.Kubernetes {
		return f.openKube(ctx, s, ch)
	}
	if err := f.resolveHome(s.getenv); err != nil {
		return nil, "", err
	}
	lp := localtarget.New(localtarget.Options{Home: f.home, Env: s.environ()})
	if err := lp.Connect(ctx); err != nil {
		return nil, "", err
	}
	if all {
		return lp, f.app, nil
	}
	app, err := lp.ResolveApp(ctx, f.app, cmp.Or(f.dir, "."))
	return lp, app, err
}

// deployPlatform is deploy's platform: the plan's target (--target overrides it).
func (o *deployOptions) platform(ctx context.Context, s *streams, p *plan.Plan) (platform.Platform, error) {
	target, err := platform.ParseTarget(p.Deploy.Target)
	if err != nil {
		return nil, err
	}
	if target == platform.Kubernetes {
		c, err := o.kube.cluster.connect(ctx, s, p)
		if err != nil {
			return nil, err
		}
		created, err := sourceDateEpoch(s)
		if err != nil {
			return nil, usageError{err}
		}
		return kubetarget.New(c, kubetarget.Options{Plan: p, Force: o.kube.force, Progress: s.Err, Render: o.kube.render,
			Registry: o.kube.registry, Base: o.kube.base, Timeout: o.kube.timeout, Created: created, Env: s.environ()}), nil
	}
	if err := o.resolveHome(s.getenv); err != nil {
		return nil, err
	}
	return localtarget.New(localtarget.Options{Home: o.home, AdminAddr: o.adminAddr, Bind: o.bind,
		HTTPPort: o.httpPort, HTTPSPort: o.httpsPort, Env: s.environ()}), nil
}

// targetFlags choose where status, logs, rollback, promote, abort, stop and destroy act:
// --target, else kubernetes when a cluster flag is given, else the [deploy] target of the
// spec in DIR or the current folder, else local.
type targetFlags struct {
	target, env string
	cluster     clusterFlags
	// force is --force-conflicts, on the verbs that apply objects (rollback, abort).
	force bool
}

func (f *targetFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "local or kubernetes (default: kubernetes with a cluster flag, else [deploy] target of the spec in DIR or the current folder, else local)")
	fs.StringVar(&f.env, "env", "", "kubernetes: apply the spec's [env.NAME] overlay (its namespace, context, strategy...)")
	f.cluster.add(fs)
}

func (f *targetFlags) clusterFlag() bool {
	o := f.cluster.opts
	return o.Kubeconfig != "" || o.Context != "" || o.Namespace != ""
}

// chosen is a target, with the spec of the project (or why it could not be read).
type chosen struct {
	target  platform.Target
	sp      *spec.Spec
	specErr error
}

// choose is the target, reading the spec of the project in dir.
func (f *targetFlags) choose(dir string) (chosen, error) {
	sp, specErr := spec.Load(dir, f.env)
	target, err := f.pick(func() (string, error) {
		if specErr != nil {
			where := dir
			if dir == "." {
				where = "the current folder"
			}
			return "", usageError{fmt.Errorf("reading the spec in %s to find the target: %w\n(fix it, or pass --target)", where, specErr)}
		}
		return sp.Deploy.Target, nil
	})
	if err != nil {
		return chosen{}, err
	}
	return chosen{target, sp, specErr}, nil
}

// pick is --target, else kubernetes when a cluster flag is given, else the [deploy] target
// that fallback reads (the spec's, or the plan's).
func (f *targetFlags) pick(fallback func() (string, error)) (platform.Target, error) {
	target := platform.Target(f.target)
	switch target {
	case platform.Local, platform.Kubernetes:
	case "":
		if f.clusterFlag() {
			target = platform.Kubernetes
			break
		}
		t, err := fallback()
		if err != nil {
			return "", err
		}
		if target, err = platform.ParseTarget(t); err != nil {
			return "", err
		}
	default:
		return "", usageError{fmt.Errorf("--target %q: want local or kubernetes", f.target)}
	}
	if target == platform.Local && f.clusterFlag() {
		return "", usageError{errors.New("--kubeconfig, --context and --namespace are for --target kubernetes")}
	}
	return target, nil
}

// openKube connects to the cluster for the app: --app, else the project's in DIR or the
// current folder, whose plan ([kubernetes] keys, strategy, routing) the verbs need.
func (f *appFlags) openKube(ctx context.Context, s *streams, ch chosen) (platform.Platform, string, error) {
	app := f.app
	var p *plan.Plan
	var perr error
	if ch.specErr == nil && (ch.sp.File != "" || app == "") {
		p, perr = planSource{dir: f.project(), env: f.env}.load(ctx)
	}
	if app == "" {
		if p == nil {
			msg := "no app to act on: pass --app NAME, or the app's folder as DIR, or run the command in it"
			if perr != nil {
				msg += fmt.Sprintf(" (resolving it failed: %v)", perr)
			}
			return nil, "", usageError{errors.New(msg)}
		}
		app = p.Name
	}
	if p != nil && p.Name != app {
		p = nil // the folder holds another app: its [kubernetes] keys do not apply
	}
	c, err := f.cluster.connect(ctx, s, p)
	if err != nil {
		return nil, "", err
	}
	return kubetarget.New(c, kubetarget.Options{Plan: p, Force: f.force, Progress: s.Err}), app, nil
}

// reportResult prints what a deploy or rollback came to: the result (JSON), then the URL or
// done (text); a failed rollout exits 1, and a second Ctrl-C 130, saying the target goes on.
func reportResult(s *streams, output, app string, res *platform.Result, err error, ev *eventPrinter, done string) error {
	if err != nil {
		if s.intr.count() >= 2 {
			msg := fmt.Sprintf("detached: the target goes on with the rollout of %s; pyship status shows where it stands", app)
			fmt.Fprintln(s.Err, msg)
			return reportedError{ExitInterrupted, msg}
		}
		return syntaxErrors(s, err)
	}
	if output == "json" {
		if err := writeJSON(s.Out, res); err != nil {
			return err
		}
	}
	switch {
	case res.Held:
		fmt.Fprintf(s.Err, "the canary %s of %s holds (for lack of traffic, or while the SLO burn rate is above max_burn_rate): pyship promote gives it all traffic, pyship abort rolls it back, pyship status shows it ([deploy.canary] no_traffic chooses what happens instead)\n", res.Release, res.App)
		return nil
	case !res.OK():
		how, downtime := "failed", ""
		if res.Phase == rollout.RolledBack {
			how = "failed and was rolled back"
			if res.Strategy == rollout.Recreate && !strings.Contains(res.Message, "recreate:") {
				downtime = fmt.Sprintf("\nrecreate: %s served nothing while %s started, nor while %s restarted", res.App, res.Release, res.Active)
			}
		}
		if ev.said(res.Message) {
			fmt.Fprintf(s.Err, "deploy of %s %s (the reason is above)%s\n", res.Release, how, downtime)
		} else {
			fmt.Fprintf(s.Err, "deploy of %s %s: %s%s\n", res.Release, how, res.Message, downtime)
		}
		return exitError{ExitFailure}
	}
	if output == "json" {
		return nil
	}
	if done != "" {
		_, err = fmt.Fprintln(s.Out, done)
	} else if res.URL != "" {
		_, err = fmt.Fprintln(s.Out, res.URL)
	}
	return err
}

// syntaxErrors prints the syntax errors that refused a build or deploy, each as
// path:line:col, and exits 1; any other error is returned as it is.
func syntaxErrors(s *streams, err error) error {
	var se *platform.SyntaxErrors
	if !errors.As(err, &se) {
		return err
	}
	for _, e := range se.Errors {
		fmt.Fprintln(s.Err, e.String())
	}
	fmt.Fprintln(s.Err, se.Error())
	return reportedError{ExitFailure, se.Error()}
}

// checkSyntax compiles the app's sources and refuses to go on with one that has syntax errors
// (see platform.CheckSyntax), printing them.
func checkSyntax(ctx context.Context, s *streams, p *plan.Plan, doing, python string) error {
	return syntaxErrors(s, platform.CheckSyntax(ctx, p, doing, python, s.environ()))
}

// changer is what plan --out and --detailed-exitcode, apply and drift ask of a target
// (localtarget and kubetarget implement it).
type changer interface {
	Plan(ctx context.Context, p *plan.Plan, o platform.PlanOptions) (*gitops.SavedPlan, error)
	Apply(ctx context.Context, sp *gitops.SavedPlan, file string, o platform.DeployOptions) (*platform.Result, error)
	Drift(ctx context.Context, p *plan.Plan, reconcile bool) (*gitops.DriftReport, error)
}

// changeTarget are the target flags of plan --out, apply and drift.
type changeTarget struct {
	targetFlags
	home    string
	render  kube.Options
	timeout time.Duration
	local   localtarget.Options
}

// open returns the target of the app planned as p: as targetFlags choose it, with p's
// [deploy] target for the spec's.
func (f *changeTarget) open(ctx context.Context, s *streams, p *plan.Plan) (changer, error) {
	target, err := f.pick(func() (string, error) { return p.Deploy.Target, nil })
	if err != nil {
		return nil, err
	}
	if target == platform.Kubernetes {
		c, err := f.cluster.connect(ctx, s, p)
		if err != nil {
			return nil, err
		}
		return kubetarget.New(c, kubetarget.Options{Plan: p, Progress: s.Err, Render: f.render, Timeout: f.timeout, Env: s.environ()}), nil
	}
	lo := localOptions{home: f.home}
	if err := lo.resolveHome(s.getenv); err != nil {
		return nil, err
	}
	o := f.local
	o.Home, o.Env = lo.home, s.environ()
	return localtarget.New(o), nil
}
