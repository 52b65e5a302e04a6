package localtarget

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/spec"
	"github.com/pyship/pyship/internal/version"
)

// Options say where the agent lives and how Deploy starts it when it is not running.
type Options struct {
	// Home is pyship's state folder, absolute.
	Home string
	// AdminAddr is the agent's admin address (/metrics); Bind the address public ports
	// listen on ("" all); HTTPPort and HTTPSPort the shared edge's ports (80 and 443 when 0).
	AdminAddr, Bind     string
	HTTPPort, HTTPSPort int
	// Env is the environment releases are built with.
	Env []string
}

// Platform is the local target: the pyship agent under Options.Home.
type Platform struct {
	o Options
	c *agent.Client
}

var _ platform.Platform = (*Platform)(nil)

// New returns the local platform; it does not contact the agent.
func New(o Options) *Platform { return &Platform{o: o, c: agent.NewClient(o.Home)} }

// Agent is the client of the agent, for what only the local target has (monitor up).
func (l *Platform) Agent() *agent.Client { return l.c }

// Connect checks that the agent runs: verbs other than deploy never start one.
func (l *Platform) Connect(ctx context.Context) error {
	if err := l.c.Ping(ctx); err != nil {
		return fmt.Errorf("%w; `pyship deploy` starts it, or run `pyship agent --home %s`", err, l.o.Home)
	}
	return nil
}

// ResolveApp picks the app a verb acts on: app when given; else the project in dir (a verb
// run in an app's folder acts on that app, as deploy does); else, outside any project, the
// only app deployed.
func (l *Platform) ResolveApp(ctx context.Context, app, dir string) (string, error) {
	if app != "" {
		return app, nil
	}
	st, err := l.c.Status(ctx, "")
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range st {
		names = append(names, s.App)
	}
	here := ProjectApp(ctx, dir)
	if root := spec.ProjectRoot(dir); here == "" && root != dir {
		here = ProjectApp(ctx, root) // a subfolder of the project
	}
	if here != "" {
		if !slices.Contains(names, here) {
			where := "this folder"
			if dir != "." {
				where = dir
			}
			return "", fmt.Errorf("%s, the project in %s, is not deployed under %s (deployed: %s): deploy it, or choose an app with --app", here, where, l.o.Home, listOrNone(names))
		}
		return here, nil
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("no app is deployed under %s", l.o.Home)
	case 1:
		return names[0], nil
	}
	return "", platform.Invalid(fmt.Errorf("several apps are deployed (%s): run the command in the app's folder, or choose one with --app", strings.Join(names, ", ")))
}

// ProjectApp is the name of the app whose project is dir, or "" when dir holds no project
// pyship can name (no spec and no Python files).
func ProjectApp(ctx context.Context, dir string) string {
	p, _, err := plan.ResolvePartial(ctx, dir, plan.Options{})
	if err != nil || p == nil || p.Run.Entrypoint == "" && p.Name == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "pyship.toml")); err != nil && p.Run.Command == nil {
		return "" // no spec and nothing detected to run: not an app's folder
	}
	return p.Name
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Deploy builds a release of p for this machine's Python and has the agent (started when not
// running) roll it out.
func (l *Platform) Deploy(ctx context.Context, p *plan.Plan, o platform.DeployOptions) (*platform.Result, error) {
	start := time.Now()
	m, err := l.build(ctx, p, "deploying", o.Python, o.Progress, o.Verbose)
	if err != nil {
		return nil, err
	}
	return l.deployRelease(ctx, m.App, m.ID, o, start)
}

// build checks p's sources and builds its release for the interpreter python (flag, else
// the plan's version on PATH), kept in the state folder. doing names the verb in errors.
func (l *Platform) build(ctx context.Context, p *plan.Plan, doing, python string, progressTo io.Writer, verbose bool) (*release.Manifest, error) {
	w := orDiscard(progressTo)
	py, err := Python(ctx, w, p, python, l.o.Env)
	if err != nil {
		return nil, err
	}
	// Compiled by the interpreter the release runs on, found past pyenv-style shims once.
	if err := platform.CheckSyntax(ctx, p, doing, image.Interpreter(ctx, py, l.o.Env), l.o.Env); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "building %s %s for %s\n", p.Name, p.Version, py)
	// pip's lines as one live status on a terminal (a line now and then in a log), or all of
	// them with verbose.
	d := progress.New(w)
	var pipOut io.Writer = &lineStatus{d: d, key: "pip", prefix: "installing dependencies: "}
	if verbose {
		pipOut = w
	}
	m, err := release.Build(ctx, release.Paths{Home: l.o.Home}, p, release.Options{Python: py, Env: l.o.Env, Progress: pipOut})
	d.Done()
	return m, err
}

// DeployRelease has the agent (started when not running) roll out release id of app, built
// before (`pyship plan --out` builds it, `pyship apply` deploys it).
func (l *Platform) DeployRelease(ctx context.Context, app, id string, o platform.DeployOptions) (*platform.Result, error) {
	return l.deployRelease(ctx, app, id, o, time.Now())
}

func (l *Platform) deployRelease(ctx context.Context, app, id string, o platform.DeployOptions, start time.Time) (*platform.Result, error) {
	w := orDiscard(o.Progress)
	if err := l.ensureAgent(ctx, w); err != nil {
		return nil, err
	}
	return l.roll(ctx, agent.DeployRequest{App: app, Release: id}, w, o.Events, o.Interrupts, start)
}

// ensureAgent starts the agent when it is not running.
func (l *Platform) ensureAgent(ctx context.Context, w io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	extra := []string{"--admin-addr", l.o.AdminAddr}
	if l.o.Bind != "" {
		extra = append(extra, "--bind", l.o.Bind)
	}
	extra = append(extra, "--http-port", strconv.Itoa(cmp.Or(l.o.HTTPPort, 80)), "--https-port", strconv.Itoa(cmp.Or(l.o.HTTPSPort, 443)))
	started, err := l.c.EnsureAgent(ctx, exe, l.o.Env, extra...)
	if err != nil {
		return err
	}
	if started {
		fmt.Fprintf(w, "started the pyship agent (log: %s)\n", filepath.Join(l.o.Home, "agent.log"))
	}
	return nil
}

// roll has the agent roll req out and follows it to its end. The first interrupt aborts it;
// a canary that holds for lack of traffic ends the wait (the agent keeps holding it).
func (l *Platform) roll(ctx context.Context, req agent.DeployRequest, w io.Writer, events func(platform.Event), intr platform.Interrupts, start time.Time) (*platform.Result, error) {
	if events == nil {
		events = func(e platform.Event) {
			if e.Warning != "" {
				fmt.Fprintf(w, "warning: %s\n", e.Warning)
			} else if e.Message != "" {
				fmt.Fprintln(w, e.Message)
			}
		}
	}
	if intr != nil {
		defer intr.On(func() {
			fmt.Fprintf(w, "interrupted: aborting the deploy of %s and rolling back to the live release (Ctrl-C again leaves the rollback to the agent)\n", req.Release)
			if _, err := l.c.Act(context.WithoutCancel(ctx), req.App, "abort"); err != nil {
				fmt.Fprintf(w, "abort: %v\n", err)
			}
		})()
	}
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	var held *agent.Event
	final, err := l.c.Deploy(streamCtx, req, func(e agent.Event) {
		events(platform.Event{Message: e.Message, Warning: e.Warning})
		if e.Held {
			held = &e
			stopStream()
		}
	})
	res := &platform.Result{App: req.App, Target: platform.Local, Release: req.Release, Duration: platform.Duration(time.Since(start))}
	switch {
	case held != nil && ctx.Err() == nil:
		res.Phase, res.Held, res.Message = rollout.Progressing, true, held.Message
		res.Strategy = rollout.Canary
		return res, nil
	case err != nil:
		return nil, err
	case final.Final == nil:
		return nil, fmt.Errorf("the agent ended the deploy of %s without a result: %s", req.Release, cmp.Or(final.Error, "no reason given"))
	}
	f := final.Final
	res.Strategy, res.Phase, res.Message, res.URL = f.Spec.Strategy, f.Phase, f.Message, final.URL
	res.Active = f.Spec.Stable
	if f.Phase == rollout.Succeeded {
		res.Active = f.Spec.Release
	} else {
		res.Failed = f.Spec.Release
	}
	if f.Phase == rollout.RolledBack && f.Spec.Stable == "" {
		res.Phase = platform.Failed // a first release: nothing was rolled back to, as on Kubernetes
	}
	return res, nil
}

// Python finds the interpreter a release runs on: flag, else the plan's version on PATH
// (python3 when the plan does not insist on a version); a warning goes to w.
func Python(ctx context.Context, w io.Writer, p *plan.Plan, flag string, env []string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	py, ver, err := pybuild.FindPython(ctx, p.Python.Version, env)
	if err != nil {
		return "", err
	}
	if pybuild.MajorMinor(ver) != pybuild.MajorMinor(p.Python.Version) {
		ev := p.Evidence["python.version"]
		if ev.Rule != "default" && ev.Rule != "" {
			return "", platform.Invalid(fmt.Errorf("the app asks for Python %s (%s) but this machine's interpreter %s is %s: install python%s, point --python or PYSHIP_PYTHON at one, or change [build] python",
				p.Python.Version, plan.FormatEvidence(ev), py, ver, pybuild.MajorMinor(p.Python.Version)))
		}
		fmt.Fprintf(w, "warning: running on Python %s (%s); the image will use %s\n", ver, py, p.Python.Version)
	}
	return py, nil
}

// Status is the agent's status of app ("" every app).
func (l *Platform) Status(ctx context.Context, app string) ([]platform.AppStatus, error) {
	st, err := l.c.Status(ctx, app)
	if err != nil {
		return nil, err
	}
	if app != "" && len(st) == 0 {
		return nil, fmt.Errorf("no app named %q is deployed under %s", app, l.o.Home)
	}
	out := make([]platform.AppStatus, 0, len(st))
	for _, a := range st {
		out = append(out, appStatus(a))
	}
	return out, nil
}

// Logs copies the app's logs to w.
func (l *Platform) Logs(ctx context.Context, app string, w io.Writer, o platform.LogsOptions) error {
	return l.c.Logs(ctx, app, o.Release, o.Follow, w)
}

// Rollback serves o.Release (default: the newest release before the stable one that was
// deployed successfully) again, with its data first when o.WithData.
func (l *Platform) Rollback(ctx context.Context, app string, o platform.RollbackOptions) (*platform.Result, error) {
	start := time.Now()
	w := orDiscard(o.Progress)
	st, err := l.c.Status(ctx, app)
	if err != nil {
		return nil, err
	}
	stable := ""
	if len(st) == 1 {
		stable = st[0].Stable
	}
	paths := release.Paths{Home: l.o.Home}
	ids := release.List(paths, app)
	promoted := release.Promotions(paths, app, ids)
	target := o.Release
	if target != "" {
		if err := release.CheckRollback(app, ids, promoted, stable, target, o.Force); err != nil {
			return nil, err
		}
	} else if target = release.RollbackTarget(ids, promoted, stable); target == "" {
		return nil, fmt.Errorf("%s has no successfully deployed release before the stable one to roll back to (pyship status lists releases; name one: pyship rollback RELEASE)", app)
	}
	if o.WithData {
		if err := l.restoreData(ctx, w, app, stable, target, o.IdentityFile); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(w, "rolling %s back to %s\n", app, target)
	return l.roll(ctx, agent.DeployRequest{App: app, Release: target, Rollback: true}, w, o.Events, o.Interrupts, start)
}

// restoreData finds the backup tagged with target, then stops the app and restores it in
// place. Until a backup is found and the identity read, nothing changes.
func (l *Platform) restoreData(ctx context.Context, w io.Writer, app, stable, target, identityFile string) error {
	ids, err := backup.ReadIdentities(identityFile)
	if err != nil {
		return platform.Invalid(err)
	}
	bc, dest, err := l.backupClient(w, app, stable, target)
	if err != nil {
		return err
	}
	lst, err := bc.List(ctx)
	if err != nil {
		return err
	}
	bm, err := platform.BackupForRelease(lst, dest, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "restoring the data of %s from backup %s (taken %s, %s); %s stops meanwhile\n",
		target, bm.ID, bm.Created.Local().Format(time.RFC3339), progress.Bytes(bm.Size()), app)
	msg, err := l.c.Act(ctx, app, "stop")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, msg)
	res, err := bc.Restore(ctx, bm.ID, backup.RestoreOptions{Identities: ids})
	if err != nil {
		return fmt.Errorf("%w; %s is stopped: restore again, or `pyship rollback` without --with-data serves it with its current data", err, app)
	}
	for name, to := range res.Targets {
		fmt.Fprintf(w, "restored %s -> %s\n", name, to)
	}
	return nil
}

// backupClient is the backup client of the app's stable release (whose deploy took the
// backup), else of the target release.
func (l *Platform) backupClient(w io.Writer, app, stable, target string) (*backup.Client, string, error) {
	paths := release.Paths{Home: l.o.Home}
	rels := []string{target}
	if stable != "" {
		rels = []string{stable, target}
	}
	for _, id := range rels {
		m, err := release.Load(paths, app, id)
		if err != nil || m.Plan.Backup == nil || m.Plan.Backup.Destination == "" {
			continue
		}
		cfg, err := platform.BackupConfig(&m.Plan, m.SecretsFile, m.DataDir, platform.Getenv(l.o.Env))
		if err != nil {
			return nil, "", err
		}
		bc, err := backup.New(cfg, backup.WithVersion(version.String()), backup.WithProgress(func(e backup.Event) {
			fmt.Fprintln(w, platform.BackupProgressLine(e))
		}))
		return bc, cfg.Destination, err
	}
	return nil, "", errors.New("neither the stable release nor " + target + " of " + app + " has a [backup] destination: there is no backup to roll the data back to; nothing was changed")
}

// Promote gives the canary in progress all traffic, or ends a blue-green rollback window.
func (l *Platform) Promote(ctx context.Context, app string) (string, error) {
	return l.c.Act(ctx, app, "promote")
}

// Abort rolls the deploy in progress back.
func (l *Platform) Abort(ctx context.Context, app string) (string, error) {
	return l.c.Act(ctx, app, "abort")
}

// Stop drains and stops the app's replicas and closes its port.
func (l *Platform) Stop(ctx context.Context, app string) (string, error) {
	return l.c.Act(ctx, app, "stop")
}

// Destroy stops the app and deletes its releases, logs and state.
func (l *Platform) Destroy(ctx context.Context, app string) (string, error) {
	return l.c.Act(ctx, app, "destroy")
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
