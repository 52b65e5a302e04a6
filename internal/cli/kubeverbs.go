package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/pflag"
)

// targetFlags choose where status, logs, rollback, promote, abort and destroy act: --target,
// else kubernetes when a cluster flag is given, else the [deploy] target of the spec in the
// current folder, else local.
type targetFlags struct {
	target, env string
	cluster     clusterFlags
	// force is --force-conflicts, on the verbs that apply objects (rollback, abort).
	force bool
}

func (f *targetFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "local or kubernetes (default: kubernetes with a cluster flag, else [deploy] target of the spec in the current folder, else local)")
	fs.StringVar(&f.env, "env", "", "kubernetes: apply the spec's [env.NAME] overlay (its namespace, context, strategy...)")
	f.cluster.add(fs)
}

// kubeApp is the app a command acts on in a cluster.
type kubeApp struct {
	c   *kube.Client
	app string
	// p is the plan of the project in the current folder; nil when there is none.
	p *plan.Plan
	// force takes over fields other field managers own (--force-conflicts).
	force bool
}

// kube returns the app to act on when the target is Kubernetes, nil for the local target. app
// is --app; without it, the app is the project's in the current folder.
func (f *targetFlags) kube(ctx context.Context, s *streams, app string) (*kubeApp, error) {
	o := f.cluster.opts
	clusterFlag := o.Kubeconfig != "" || o.Context != "" || o.Namespace != ""
	target := f.target
	sp, specErr := spec.Load(".", f.env)
	switch target {
	case "local", "kubernetes":
	case "":
		switch {
		case clusterFlag:
			target = "kubernetes"
		case specErr != nil:
			return nil, usageError{fmt.Errorf("reading the spec in the current folder to find the target: %w\n(fix it, or pass --target)", specErr)}
		case sp.Deploy.Target != "":
			target = sp.Deploy.Target
		default:
			target = "local"
		}
	default:
		return nil, usageError{fmt.Errorf("--target %q: want local or kubernetes", f.target)}
	}
	if target == "local" {
		if clusterFlag {
			return nil, usageError{errors.New("--kubeconfig, --context and --namespace are for --target kubernetes")}
		}
		return nil, nil
	}
	ka := &kubeApp{app: app, force: f.force}
	var perr error
	if specErr == nil && (sp.File != "" || app == "") {
		ka.p, perr = planSource{dir: ".", env: f.env}.load(ctx)
	}
	if ka.app == "" {
		if ka.p == nil {
			msg := "no app to act on: pass --app NAME, or run the command in the app's folder"
			if perr != nil {
				msg += fmt.Sprintf(" (resolving it failed: %v)", perr)
			}
			return nil, usageError{errors.New(msg)}
		}
		ka.app = ka.p.Name
	}
	if ka.p != nil && ka.p.Name != ka.app {
		ka.p = nil // the folder holds another app: its [kubernetes] keys do not apply
	}
	c, err := f.cluster.connect(ctx, s, ka.p)
	if err != nil {
		return nil, err
	}
	ka.c = c
	return ka, nil
}

// kubeProgress shows the library's progress on stderr: a Deployment's status line ("NAME:
// 2/3 updated, ...") as a status that a terminal rewrites in place, everything else as lines.
func kubeProgress(s *streams) kube.Progress {
	d := progress.New(s.Err)
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if name, rest, _ := strings.Cut(line, ": "); strings.Contains(rest, " updated, ") && !strings.Contains(name, " ") {
			d.Status(name, "%s", line)
			return
		}
		d.Line("%s", line)
	}
}

// deployOptions are the rollout settings of the app's plan (defaults without one).
func (ka *kubeApp) deployOptions(s *streams) kube.DeployOptions {
	o := kube.DeployOptions{Replicas: 1, Progress: kubeProgress(s)}
	if ka.p != nil {
		o = kube.DeployOptionsFor(ka.p, kubeProgress(s))
	}
	o.Force = ka.force
	return o
}

// bundle renders the app as it runs now (its active release's image), for the rollout steps
// that re-point traffic: they need its strategy, Service and HTTPRoute.
func (ka *kubeApp) bundle(ctx context.Context, s *streams, verb string) (*kube.Bundle, error) {
	if ka.p == nil {
		return nil, usageError{fmt.Errorf("%s on Kubernetes needs the app's project, to know its strategy and routing: run it in the folder of %s", verb, ka.app)}
	}
	st, err := ka.c.Status(ctx, ka.app)
	if err != nil {
		return nil, err
	}
	image := ""
	for _, r := range st.Releases {
		if image == "" || r.Role == "active" {
			image = r.Image
		}
	}
	if image == "" {
		return nil, fmt.Errorf("%s: %s has no release in namespace %s; deploy it first", verb, ka.app, ka.c.Namespace)
	}
	return renderPlan(s, ka.p, kube.Options{Image: image}, ka.c.Namespace)
}

// kubeStatus prints the app's rollout state and releases.
func kubeStatus(ctx context.Context, s *streams, ka *kubeApp, asJSON bool) error {
	st, err := ka.c.Status(ctx, ka.app)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(s.Out, struct {
			App       string `json:"app"`
			Namespace string `json:"namespace"`
			*kube.AppStatus
		}{ka.app, ka.c.Namespace, st})
	}
	return writeKubeStatus(s.Out, ka.app, ka.c.Namespace, st, time.Now())
}

func writeKubeStatus(w io.Writer, app, ns string, st *kube.AppStatus, now time.Time) error {
	if len(st.Releases) == 0 && st.State.Active == "" {
		_, err := fmt.Fprintf(w, "%s is not deployed in namespace %s\n", app, ns)
		return err
	}
	s := st.State
	fmt.Fprintf(w, "%s  namespace %s  active %s  phase %s\n", app, ns, orDash(s.Active), orDash(s.Phase))
	if s.Candidate != "" {
		fmt.Fprintf(w, "rollout in progress: %s", s.Candidate)
		if s.CanaryWeight != "" {
			fmt.Fprintf(w, " at %s%%", s.CanaryWeight)
		}
		fmt.Fprintln(w)
	}
	if s.Failed != "" {
		fmt.Fprintf(w, "last failed release: %s\n", s.Failed)
	}
	writeAnalysis(w, st.Analysis)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tROLE\tREPLICAS\tREADY\tRESTARTS\tIMAGE")
	for _, r := range st.Releases {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d\t%d\t%s\n", orDash(r.Release), orDash(r.Role), r.Replicas, r.Health.Ready, r.Health.Total, r.Health.Restarts, r.Image)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range st.Releases {
		if r.Role == "previous" && r.Replicas > 0 {
			_, err := fmt.Fprintln(w, retirement(r, s.RetireAfter, now))
			return err
		}
	}
	return nil
}

// retirement says how long the previous release, still running, is kept for rollback and what
// retires it: nothing on the cluster does by itself, the first deploy or promote after its
// rollback window does.
func retirement(r kube.ReleaseStatus, after, now time.Time) string {
	switch {
	case after.IsZero():
		return fmt.Sprintf("previous release %s still runs %d replica(s) for rollback; the next deploy or `pyship promote` scales it down", r.Release, r.Replicas)
	case now.Before(after):
		return fmt.Sprintf("previous release %s keeps %d replica(s) for rollback until %s (in %s); the first deploy or `pyship promote` after that scales it down (promote now ends the window)",
			r.Release, r.Replicas, after.UTC().Format(time.RFC3339), after.Sub(now).Round(time.Second))
	}
	return fmt.Sprintf("previous release %s still runs %d replica(s): its rollback window ended at %s; `pyship promote` or the next deploy scales it down",
		r.Release, r.Replicas, after.UTC().Format(time.RFC3339))
}

// kubeRollback returns the app to its previous release.
func kubeRollback(ctx context.Context, s *streams, ka *kubeApp, release, output string, data *dataRollback) error {
	st, err := ka.c.ReadState(ctx, ka.app)
	if err != nil {
		return err
	}
	if release != "" && release != st.Previous && release != st.Active {
		return usageError{fmt.Errorf("on Kubernetes only the previous release (%s) can be rolled back to; deploy an older image with `pyship deploy --image REF` instead", orDash(st.Previous))}
	}
	b, err := ka.bundle(ctx, s, "rollback")
	if err != nil {
		return err
	}
	if data.with && st.Previous == "" {
		return fmt.Errorf("rollback --with-data: %s has no previous release in namespace %s: nothing was changed", ka.app, ka.c.Namespace)
	}
	if err := data.restoreKube(ctx, s, ka, b, st.Previous); err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "rolling %s back in namespace %s\n", ka.app, ka.c.Namespace)
	if err := ka.c.Rollback(ctx, b, ka.deployOptions(s)); err != nil {
		return err
	}
	after, err := ka.c.ReadState(ctx, ka.app)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(s.Out, after)
	}
	_, err = fmt.Fprintf(s.Out, "%s rolled back: release %s is active\n", ka.app, orDash(after.Active))
	return err
}

// kubeAct runs promote, abort or destroy on the cluster and says what happened.
func kubeAct(ctx context.Context, s *streams, ka *kubeApp, verb string) (string, error) {
	switch verb {
	case "promote":
		st, err := ka.c.ReadState(ctx, ka.app)
		if err != nil {
			return "", err
		}
		if st.Candidate != "" {
			if err := ka.c.Request(ctx, ka.app, kube.RequestPromote); err != nil {
				return "", err
			}
			return fmt.Sprintf("promote requested: the deploy in progress gives %s all traffic at its next step", st.Candidate), nil
		}
		if err := ka.c.Promote(ctx, ka.app, ka.deployOptions(s)); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s promoted: the previous release is scaled down", ka.app), nil
	case "abort":
		b, err := ka.bundle(ctx, s, "abort")
		if err != nil {
			return "", err
		}
		if err := ka.c.Abort(ctx, b, ka.deployOptions(s)); err != nil {
			return "", err
		}
		st, err := ka.c.ReadState(ctx, ka.app)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: rollout aborted, all traffic on release %s", ka.app, st.Active), nil
	case "destroy":
		deleted, err := ka.c.Destroy(ctx, ka.app, false, kubeProgress(s))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s destroyed in namespace %s: %d object(s) deleted, persistent volume claims kept", ka.app, ka.c.Namespace, len(deleted)), nil
	}
	return "", fmt.Errorf("%s is not available for the Kubernetes target", verb)
}
