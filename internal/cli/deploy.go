package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/spf13/cobra"
)

type deployOptions struct {
	localOptions
	dir, planFile, env, strategy, python, output, adminAddr, bind string
	httpPort, httpsPort                                           int
	verbose                                                       bool
	kube                                                          kubeDeployFlags
}

func newDeployCmd(s *streams) *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Build a release of the app in DIR and roll it out, on this machine or on Kubernetes",
		Long: `Build a release of the app in DIR (default .) and roll it out with the plan's strategy
(rolling, blue-green or canary), health-gated; a failing release is rolled back. Prints the
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
			o.dir = "."
			if len(args) == 1 {
				o.dir = args[0]
			}
			if o.output != "" && o.output != "json" && o.output != "text" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", o.output)}
			}
			return runDeploy(cmd.Context(), s, &o)
		},
	}
	o.addFlags(cmd, false)
	f := cmd.Flags()
	f.StringVar(&o.planFile, "plan", "", "deploy the plan JSON in `FILE` (written by pyship plan --output json; - for stdin) instead of resolving DIR")
	f.StringVar(&o.env, "env", "", "apply the spec's [env.NAME] overlay")
	f.StringVar(&o.strategy, "strategy", "", "override the strategy: rolling, blue-green or canary")
	f.StringVar(&o.python, "python", "", "local: the Python interpreter to run the app with (default: the plan's version on PATH); kubernetes: the build host's Python with pip (default python3)")
	f.StringVarP(&o.output, "output", "o", "text", "text or json")
	f.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:9180", "admin address (/metrics) of the agent when deploy starts it")
	f.StringVar(&o.bind, "bind", "", "address public ports listen on, when deploy starts the agent")
	f.IntVar(&o.httpPort, "http-port", 80, "HTTP port of the shared edge (apps with [edge] hosts), when deploy starts the agent")
	f.IntVar(&o.httpsPort, "https-port", 443, "HTTPS port of the shared edge, when deploy starts the agent")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show pip's output")
	o.kube.add(f)
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
	if _, err := rollout.ParseStrategy(p.Deploy.Strategy); err != nil {
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

func runDeploy(ctx context.Context, s *streams, o *deployOptions) error {
	if _, err := deployTarget(o.kube.target, &plan.Plan{}); err != nil {
		return err
	}
	p, err := loadPlan(ctx, s.In, o)
	if err != nil {
		return err
	}
	if err := checkPlan(p); err != nil {
		return err
	}
	target := p.Deploy.Target
	if target == "kubernetes" {
		return runKubeDeploy(ctx, s, o, p)
	}
	if err := o.resolveHome(s.getenv); err != nil {
		return err
	}
	paths := release.Paths{Home: o.home}
	env := s.environ()
	py, err := deployPython(ctx, s, p, o.python)
	if err != nil {
		return err
	}
	// Compiled by the interpreter the release runs on, found past pyenv-style shims once.
	if err := checkSyntax(ctx, s, p, "deploying", image.Interpreter(ctx, py, s.environ())); err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "building %s %s for %s\n", p.Name, p.Version, py)
	// pip's lines as one live status on a terminal (a line now and then in a log), or all of
	// them with --verbose.
	d := progress.New(s.Err)
	var pipOut io.Writer = &lineStatus{d: d, key: "pip", prefix: "installing dependencies: "}
	if o.verbose {
		pipOut = s.Err
	}
	m, err := release.Build(ctx, paths, p, release.Options{Python: py, Env: env, Progress: pipOut})
	d.Done()
	if err != nil {
		return err
	}
	return deployRelease(ctx, s, agentOptions{home: o.home, adminAddr: o.adminAddr, bind: o.bind, httpPort: o.httpPort, httpsPort: o.httpsPort}, m.App, m.ID, o.output)
}

// agentOptions say where the local agent lives and how deploy starts it when it is not running
// (the shared edge's ports: 80 and 443 when zero).
type agentOptions struct {
	home, adminAddr, bind string
	httpPort, httpsPort   int
}

// deployRelease has the local agent (started when not running) roll the built release id of
// app out, and reports the outcome.
func deployRelease(ctx context.Context, s *streams, ao agentOptions, app, id, output string) error {
	c := agent.NewClient(ao.home)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	extra := []string{"--admin-addr", ao.adminAddr}
	if ao.bind != "" {
		extra = append(extra, "--bind", ao.bind)
	}
	extra = append(extra, "--http-port", strconv.Itoa(cmp.Or(ao.httpPort, 80)), "--https-port", strconv.Itoa(cmp.Or(ao.httpsPort, 443)))
	if started, err := c.EnsureAgent(ctx, exe, extra...); err != nil {
		return err
	} else if started {
		fmt.Fprintf(s.Err, "started the pyship agent (log: %s)\n", filepath.Join(ao.home, "agent.log"))
	}
	ev := newEventPrinter(s.Err)
	defer s.intr.on(abortOnInterrupt(ctx, s, c, app, id))()
	// A canary that holds for lack of traffic waits for a decision the user makes with
	// another command: stop waiting for it (the agent keeps holding it).
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	var held *agent.Event
	final, err := c.Deploy(streamCtx, agent.DeployRequest{App: app, Release: id}, func(e agent.Event) {
		ev.print(e)
		if e.Held {
			held = &e
			stopStream()
		}
	})
	ev.close()
	switch {
	case held != nil && ctx.Err() == nil:
		return reportHeld(s, output, app, id, *held)
	case err != nil:
		return detachedOr(s, app, id, err)
	}
	return reportDeploy(s, output, final, ev)
}

// reportHeld says that the canary of rel holds (no traffic, or a burn-rate hold) and what to do; the deploy
// command's work is done (exit 0), the decision is the user's.
func reportHeld(s *streams, output, app, rel string, e agent.Event) error {
	fmt.Fprintf(s.Err, "the canary %s of %s holds (for lack of traffic, or while the SLO burn rate is above max_burn_rate): pyship promote gives it all traffic, pyship abort rolls it back, pyship status shows it ([deploy.canary] no_traffic chooses what happens instead)\n", rel, app)
	if output == "json" {
		return writeJSON(s.Out, map[string]any{"app": app, "release": rel, "held": true, "message": e.Message})
	}
	return nil
}

// abortOnInterrupt is what the first Ctrl-C does to a local deploy or rollback in progress:
// abort it, so the live release keeps (or gets back) all traffic, while the command goes on
// showing the rollback.
func abortOnInterrupt(ctx context.Context, s *streams, c *agent.Client, app, rel string) func() {
	return func() {
		fmt.Fprintf(s.Err, "interrupted: aborting the deploy of %s and rolling back to the live release (Ctrl-C again leaves the rollback to the agent)\n", rel)
		if _, err := c.Act(context.WithoutCancel(ctx), app, "abort"); err != nil {
			fmt.Fprintf(s.Err, "abort: %v\n", err)
		}
	}
}

// detachedOr says, when the deploy stream ended because a second Ctrl-C cancelled it, that
// the agent carries on, and how to follow it; any other error is returned as it is.
func detachedOr(s *streams, app, rel string, err error) error {
	if s.intr.count() < 2 {
		return err
	}
	fmt.Fprintf(s.Err, "detached: the agent goes on with %s of %s; pyship status shows where it stands\n", rel, app)
	return exitError{ExitInterrupted}
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

// checkSyntax compiles the app's sources and refuses to go on with one that has syntax errors,
// printing each as path:line:col; doing is what is refused ("deploying", "building"). python
// is the interpreter to compile with; "" picks the plan's as `pyship check` does.
func checkSyntax(ctx context.Context, s *streams, p *plan.Plan, doing, python string) error {
	var errs []pybuild.SyntaxError
	if python == "" {
		rep, err := pybuild.CheckApp(ctx, p, s.environ())
		if err != nil {
			return err
		}
		errs = rep.Errors
	} else {
		var err error
		if errs, err = pybuild.CheckFiles(ctx, p, python); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(s.Err, e.String())
		}
		fmt.Fprintf(s.Err, "not %s: %d syntax error(s) (pyship check shows them)\n", doing, len(errs))
		return exitError{ExitFailure}
	}
	return nil
}

// deployPython finds the interpreter the local release runs on: --python, else the plan's
// version on PATH (python3 when the plan does not insist on a version).
func deployPython(ctx context.Context, s *streams, p *plan.Plan, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	py, ver, err := pybuild.FindPython(ctx, p.Python.Version, s.environ())
	if err != nil {
		return "", err
	}
	if pybuild.MajorMinor(ver) != pybuild.MajorMinor(p.Python.Version) {
		ev := p.Evidence["python.version"]
		if ev.Rule != "default" && ev.Rule != "" {
			return "", usageError{fmt.Errorf("the app asks for Python %s (%s) but this machine's interpreter %s is %s: install python%s, point --python or PYSHIP_PYTHON at one, or change [build] python",
				p.Python.Version, plan.FormatEvidence(ev), py, ver, pybuild.MajorMinor(p.Python.Version))}
		}
		fmt.Fprintf(s.Err, "warning: running on Python %s (%s); the image will use %s\n", ver, py, p.Python.Version)
	}
	return py, nil
}

// reportDeploy prints the result of a deploy or rollback: the URL, or why it rolled back.
func reportDeploy(s *streams, output string, final agent.Event, ev *eventPrinter) error {
	if output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(final); err != nil {
			return err
		}
	}
	if final.Final.Phase != rollout.Succeeded {
		if ev.said(final.Final.Message) {
			fmt.Fprintf(s.Err, "deploy of %s failed and was rolled back (the reason is above)\n", final.Final.Spec.Release)
		} else {
			fmt.Fprintf(s.Err, "deploy of %s failed and was rolled back: %s\n", final.Final.Spec.Release, final.Final.Message)
		}
		return exitError{ExitFailure}
	}
	if output != "json" {
		fmt.Fprintln(s.Out, final.URL)
	}
	return nil
}
