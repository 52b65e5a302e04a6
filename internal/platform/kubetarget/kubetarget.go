package kubetarget

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/rollout"
)

// Options say how the platform acts on the cluster.
type Options struct {
	// Plan is the app's project (the current folder's), for the verbs that re-point traffic
	// (rollback, abort) or restore data; nil when there is none.
	Plan *plan.Plan
	// Force takes over fields other field managers own (--force-conflicts).
	Force bool
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Render overrides the spec's [kubernetes] keys (deploy's flags); Render.Image deploys
	// that image, by digest, instead of building and pushing one.
	Render kube.Options
	// Registry and Base build the image (default [build] registry and base).
	Registry, Base string
	// Timeout bounds a deploy's rollout (default 15m): a release not live by then is
	// diagnosed and rolled back.
	Timeout time.Duration
	// Created is the image's creation time (SOURCE_DATE_EPOCH).
	Created time.Time
	// Env is the environment images are built in; nil: the process's.
	Env []string
}

// Platform is the Kubernetes target: one namespace of one cluster.
type Platform struct {
	c        *kube.Client
	o        Options
	progress kube.Progress
}

var _ platform.Platform = (*Platform)(nil)

// New returns the platform of the cluster c is connected to.
func New(c *kube.Client, o Options) *Platform {
	return &Platform{c: c, o: o, progress: Progress(o.Progress)}
}

// Progress shows the kube library's progress on w: a Deployment's status line ("NAME: 2/3
// updated, ...") as a status that a terminal rewrites in place, everything else as lines.
func Progress(w io.Writer) kube.Progress {
	if w == nil {
		w = io.Discard
	}
	d := progress.New(w)
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if name, rest, _ := strings.Cut(line, ": "); strings.Contains(rest, " updated, ") && !strings.Contains(name, " ") {
			d.Status(name, "%s", line)
			return
		}
		d.Line("%s", line)
	}
}

// Deploy checks the app, builds and pushes its image (unless Options.Render.Image), renders
// it with the image by digest, backs up the release it replaces when the plan asks, applies
// it and rolls it out with the plan's strategy. A release that fails is diagnosed and rolled
// back when the strategy allows.
func (k *Platform) Deploy(ctx context.Context, p *plan.Plan, o platform.DeployOptions) (*platform.Result, error) {
	start := time.Now()
	c := k.c
	if err := platform.CheckSyntax(ctx, p, "deploying", image.Interpreter(ctx, cmp.Or(o.Python, "python3"), k.o.Env), k.o.Env); err != nil {
		return nil, err
	}
	flags := k.o.Render
	if flags.Image == "" {
		var err error
		if flags.Image, err = k.pushImage(ctx, p, cmp.Or(o.Python, "python3")); err != nil {
			return nil, err
		}
	} else if err := byDigest(flags.Image); err != nil {
		return nil, err
	}
	if err := k.withAgentImage(ctx, p, &flags, true); err != nil {
		return nil, err
	}
	b, err := Render(p, flags, c.Namespace)
	if err != nil {
		return nil, err
	}
	return k.rollOut(ctx, start, p, b, flags.Image, URL(b, kube.OptionsFor(p).Override(flags)), o)
}

// DeployBundle rolls out objects rendered before (`pyship plan --out`), as they are, with
// the workflow of Deploy: the backup before the deploy, Ctrl-C's abort, the canary's checks,
// and a failing release diagnosed and rolled back. p is the plan they were rendered from,
// image the app image they run.
func (k *Platform) DeployBundle(ctx context.Context, p *plan.Plan, b *kube.Bundle, image string, o platform.DeployOptions) (*platform.Result, error) {
	if b.Namespace != "" && b.Namespace != k.c.Namespace {
		return nil, platform.Invalid(fmt.Errorf("the objects are for namespace %q, the client for %q", b.Namespace, k.c.Namespace))
	}
	return k.rollOut(ctx, time.Now(), p, b, image, URL(b, kube.OptionsFor(p)), o)
}

// rollOut is the deploy of rendered objects b: backup, apply, rollout, result.
func (k *Platform) rollOut(ctx context.Context, start time.Time, p *plan.Plan, b *kube.Bundle, image, url string, o platform.DeployOptions) (*platform.Result, error) {
	c, progress := k.c, k.progress
	dctx, cancel := context.WithTimeout(ctx, cmp.Or(k.o.Timeout, 15*time.Minute))
	defer cancel()
	if p.Backup != nil && p.Backup.Schedule != "" && b.BackupPod != nil {
		// A CronJob whose pod cannot start reports to nobody: say it now.
		if err := c.CheckSigningSecret(dctx, b); err != nil {
			progress("warning: the scheduled backups of %s will not start: %v", b.App, err)
		}
	}
	if err := k.backupBeforeDeploy(dctx, b); err != nil {
		return nil, err
	}
	progress("deploying %s release %s to namespace %s (%s)", b.App, b.Release, c.Namespace, b.Strategy)
	do := kube.DeployOptionsFor(p, progress)
	do.Force = k.o.Force
	if o.Interrupts != nil {
		back := "rolling back to the live release"
		if st, err := c.ReadState(dctx, b.App); err == nil && st.Active == "" {
			back = "stopping it: no release of " + b.App + " served before"
		}
		defer o.Interrupts.On(func() {
			progress("interrupted: aborting the deploy of %s and %s (Ctrl-C again stops waiting)", b.Release, back)
			if err := c.Request(context.WithoutCancel(ctx), b.App, kube.RequestAbort); err != nil {
				progress("abort: %v; Ctrl-C again stops waiting (the cluster goes on with the rollout)", err)
			}
		})()
	}
	if cn := p.Deploy.Canary; cn != nil && cn.PrometheusURL != "" {
		pc, err := promql.New(cn.PrometheusURL, nil)
		if err != nil {
			return nil, platform.Invalid(fmt.Errorf("[deploy.canary] prometheus_url: %w", err))
		}
		do.Metrics, do.Prometheus = (&kube.Prometheus{Client: pc, Namespace: c.Namespace, App: b.App, Sidecar: b.Sidecar}).Metrics, pc
	}
	derr := c.Deploy(dctx, b, do)
	if derr != nil && ctx.Err() != nil {
		return nil, derr // interrupted twice: the cluster goes on
	}
	res := &platform.Result{App: b.App, Target: platform.Kubernetes, Namespace: c.Namespace, Release: b.Release, Image: image,
		Strategy: b.Strategy, URL: url, Phase: rollout.Succeeded}
	st, err := c.ReadState(context.WithoutCancel(ctx), b.App)
	if err == nil {
		res.Active, res.Failed = st.Active, st.Failed
	}
	if derr != nil {
		res.Phase, res.Message = platform.Failed, derr.Error()
		if res.Active != "" && res.Active != b.Release {
			res.Phase = rollout.RolledBack
		}
		res.Failed = b.Release
	} else {
		progress("%s release %s is live in namespace %s", b.App, b.Release, c.Namespace)
	}
	res.Duration = platform.Duration(time.Since(start))
	return res, nil
}

// pushImage builds the app's image and pushes it exactly as `pyship build --push` does, and
// returns its reference by digest.
func (k *Platform) pushImage(ctx context.Context, p *plan.Plan, python string) (string, error) {
	res, err := platform.BuildImage(ctx, p, platform.BuildOptions{Env: k.o.Env, Python: python, Base: k.o.Base, Registry: k.o.Registry, Push: true,
		Created: k.o.Created, Progress: k.o.Progress})
	if err != nil {
		return "", err
	}
	if host, _, _ := strings.Cut(res.Image, "/"); isLoopback(host) {
		k.progress("warning: the image is on %s: the cluster's nodes must reach it there; set [build] registry (or --registry) for a remote cluster", host)
	}
	return res.Image, nil
}

func isLoopback(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// URL is where the deployed app answers: https://HOST with a certificate, http://HOST
// without, else its Service inside the cluster; "" for a worker.
func URL(b *kube.Bundle, o kube.Options) string {
	switch {
	case o.Host != "" && (o.TLSSecret != "" || o.ClusterIssuer != ""):
		return "https://" + o.Host
	case o.Host != "":
		return "http://" + o.Host
	}
	for _, u := range b.Objects {
		if u.GetKind() == "Service" && u.GetName() == b.App {
			return fmt.Sprintf("http://%s.%s.svc", b.App, b.Namespace)
		}
	}
	return ""
}

// backupBeforeDeploy backs up the data of the release being replaced, tagged with it, when the
// plan asks for it ([deploy] backup_before), before anything of the deploy is applied: a
// failed backup stops the deploy with nothing changed.
func (k *Platform) backupBeforeDeploy(ctx context.Context, b *kube.Bundle) error {
	if b.BackupBefore == nil {
		return nil
	}
	st, err := k.c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if st.Active == "" {
		k.progress("no release of %s is live yet: nothing to back up before this deploy", b.App)
		return nil
	}
	k.progress("backing up the data of %s release %s before the deploy ([deploy] backup_before)", b.App, st.Active)
	if err := k.c.RunBackup(ctx, b, st.Active, k.progress); err != nil {
		return fmt.Errorf("the backup before the deploy failed, so nothing was changed (%s still serves): %w; fix the backup ([backup]) or set [deploy] backup_before = false", st.Active, err)
	}
	return nil
}

// deployOptions are the rollout settings of the app's plan (defaults without one).
func (k *Platform) deployOptions() kube.DeployOptions {
	o := kube.DeployOptions{Replicas: 1, Progress: k.progress}
	if k.o.Plan != nil {
		o = kube.DeployOptionsFor(k.o.Plan, k.progress)
	}
	o.Force = k.o.Force
	return o
}

// bundle renders the app as it runs now (its active release's image), for the rollout steps
// that re-point traffic: they need its strategy, Service and HTTPRoute.
func (k *Platform) bundle(ctx context.Context, app, verb string) (*kube.Bundle, error) {
	if k.o.Plan == nil {
		return nil, platform.Invalid(fmt.Errorf("%s on Kubernetes needs the app's project, to know its strategy and routing: run it in the folder of %s", verb, app))
	}
	img, err := k.liveImage(ctx, app)
	if err != nil {
		return nil, err
	}
	if img == "" {
		return nil, fmt.Errorf("%s: %s has no release in namespace %s; deploy it first", verb, app, k.c.Namespace)
	}
	return Render(k.o.Plan, kube.Options{Image: img}, k.c.Namespace)
}

// liveImage is the image the app's active release runs (else any of its releases'); "" when
// it runs none.
func (k *Platform) liveImage(ctx context.Context, app string) (string, error) {
	st, err := k.c.Status(ctx, app)
	if err != nil {
		return "", err
	}
	img := ""
	for _, r := range st.Releases {
		if img == "" || r.Role == "active" {
			img = r.Image
		}
	}
	return img, nil
}

// Logs copies the app's logs to w, each line prefixed by its pod.
func (k *Platform) Logs(ctx context.Context, app string, w io.Writer, o platform.LogsOptions) error {
	return k.c.Logs(ctx, app, w, kube.LogsOptions{Release: o.Release, Follow: o.Follow})
}

// Rollback returns the app to its previous release (with its data first when asked).
func (k *Platform) Rollback(ctx context.Context, app string, o platform.RollbackOptions) (*platform.Result, error) {
	start := time.Now()
	st, err := k.c.ReadState(ctx, app)
	if err != nil {
		return nil, err
	}
	if o.Release != "" && o.Release != st.Previous && o.Release != st.Active {
		return nil, platform.Invalid(fmt.Errorf("on Kubernetes only the previous release (%s) can be rolled back to; deploy an older image with `pyship deploy --image REF` instead", cmp.Or(st.Previous, "-")))
	}
	b, err := k.bundle(ctx, app, "rollback")
	if err != nil {
		return nil, err
	}
	if o.WithData {
		if st.Previous == "" {
			return nil, fmt.Errorf("rollback --with-data: %s has no previous release in namespace %s: nothing was changed", app, k.c.Namespace)
		}
		if err := k.restoreData(ctx, app, b, st.Previous, o.IdentitySecret); err != nil {
			return nil, err
		}
	}
	k.progress("rolling %s back in namespace %s", app, k.c.Namespace)
	if err := k.c.Rollback(ctx, b, k.deployOptions()); err != nil {
		return nil, err
	}
	after, err := k.c.ReadState(ctx, app)
	if err != nil {
		return nil, err
	}
	return &platform.Result{App: app, Target: platform.Kubernetes, Namespace: k.c.Namespace, Release: after.Active, Strategy: b.Strategy,
		Phase: rollout.Succeeded, Active: after.Active, Duration: platform.Duration(time.Since(start))}, nil
}

// Promote gives a canary in progress all traffic (a request its deploy takes at its next
// step) or, after a switch, ends the rollback window: the previous release scales down.
func (k *Platform) Promote(ctx context.Context, app string) (string, error) {
	st, err := k.c.ReadState(ctx, app)
	if err != nil {
		return "", err
	}
	if st.Candidate != "" && st.Phase != kube.PhaseCanary {
		return "", fmt.Errorf("promote: the rollout of %s in progress is health-gated and finishes by itself (rolling and blue-green); `pyship abort` stops it", st.Candidate)
	}
	if st.Candidate != "" {
		if err := k.c.Request(ctx, app, kube.RequestPromote); err != nil {
			return "", err
		}
		return fmt.Sprintf("promote requested: the deploy in progress gives %s all traffic at its next step", st.Candidate), nil
	}
	if err := k.c.Promote(ctx, app, k.deployOptions()); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s promoted: the previous release is scaled down", app), nil
}

// Abort rolls the rollout in progress back: all traffic returns to the active release.
func (k *Platform) Abort(ctx context.Context, app string) (string, error) {
	b, err := k.bundle(ctx, app, "abort")
	if err != nil {
		return "", err
	}
	if err := k.c.Abort(ctx, b, k.deployOptions()); err != nil {
		return "", err
	}
	st, err := k.c.ReadState(ctx, app)
	if err != nil {
		return "", err
	}
	if st.Active == "" {
		return fmt.Sprintf("%s: the first release was stopped; nothing of %s is left in namespace %s (volumes are kept)", app, app, k.c.Namespace), nil
	}
	return fmt.Sprintf("%s: rollout aborted, all traffic on release %s", app, st.Active), nil
}

// Stop is not available on Kubernetes.
func (k *Platform) Stop(ctx context.Context, app string) (string, error) {
	return "", fmt.Errorf("stop %s: %w (Kubernetes): `pyship destroy` deletes its objects and keeps its volumes", app, platform.ErrUnsupported)
}

// Destroy deletes every object pyship applied for the app and its rollout state; persistent
// volume claims stay.
func (k *Platform) Destroy(ctx context.Context, app string) (string, error) {
	deleted, err := k.c.Destroy(ctx, app, false, k.progress)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s destroyed in namespace %s: %d object(s) deleted, persistent volume claims kept", app, k.c.Namespace, len(deleted)), nil
}
