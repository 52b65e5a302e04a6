package cli

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/plan"
	"github.com/spf13/pflag"
)

// kubeDeployFlags are deploy's flags for the Kubernetes target: the cluster, the image (built
// and pushed unless --image) and the rendering options that override [kubernetes].
type kubeDeployFlags struct {
	target         string
	cluster        clusterFlags
	render         kube.Options
	registry, base string
	timeout        time.Duration
	force          bool
}

func (f *kubeDeployFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "where to deploy: local or kubernetes (default [deploy] target, else local)")
	f.cluster.add(fs)
	fs.StringVar(&f.render.Image, "image", "", "kubernetes: deploy this image, REPO@sha256:..., instead of building and pushing one")
	fs.StringVar(&f.registry, "registry", "", "kubernetes: registry to push the image to (default [build] registry, else pyship's own at 127.0.0.1:5050)")
	fs.StringVar(&f.base, "base", "", "kubernetes: base image (default [build] base)")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "kubernetes: how long the rollout may take; a release not live by then is diagnosed and rolled back")
	addRenderOptions(fs, &f.render)
	addForceConflicts(fs, &f.force)
}

// addForceConflicts adds --force-conflicts, which the conflict error names.
func addForceConflicts(fs *pflag.FlagSet, force *bool) {
	fs.BoolVar(force, "force-conflicts", false, "kubernetes: take over fields of pyship's objects that another field manager (kubectl, a controller) owns, as kubectl apply --server-side --force-conflicts")
}

// kubeDeployResult is what `pyship deploy --target kubernetes --output json` prints.
type kubeDeployResult struct {
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	Release   string `json:"release"`
	Image     string `json:"image"`
	Strategy  string `json:"strategy"`
	// URL is where the app answers: its host, else its Service's cluster address ("" for a worker).
	URL   string     `json:"url,omitempty"`
	State kube.State `json:"state"`
	// Error says why the deploy failed, with the diagnosis; "" when it succeeded.
	Error string `json:"error,omitempty"`
}

// runKubeDeploy checks the app, builds and pushes its image (unless --image), renders it with
// the image by digest, applies it and rolls it out with the plan's strategy. A release that
// fails is diagnosed and rolled back when the strategy allows; the command then exits 1.
func runKubeDeploy(ctx context.Context, s *streams, o *deployOptions, p *plan.Plan) error {
	if err := checkSyntax(ctx, s, p, "deploying", image.Interpreter(ctx, cmp.Or(o.python, "python3"), s.environ())); err != nil {
		return err
	}
	c, err := o.kube.cluster.connect(ctx, s, p)
	if err != nil {
		return err
	}
	flags := o.kube.render
	if flags.Image == "" {
		if flags.Image, err = o.pushImage(ctx, s, p); err != nil {
			return err
		}
	} else if !strings.Contains(flags.Image, "@sha256:") {
		return usageError{fmt.Errorf("--image %q: give the image by digest, REPO@sha256:... (`pyship build` prints it), so every pod runs the same bytes", flags.Image)}
	}
	flags.AgentHasPostgres = flags.AgentImage != "" // an agent image of the user's is taken to have pg_dump
	if merged := kube.OptionsFor(p).Override(flags); merged.AgentImage == "" && (clusterBackups(p) || kube.ProxySidecar(p, merged)) {
		res, repo, err := agentImage(ctx, s, flags.Image, merged.AgentBase)
		if err != nil {
			return err
		}
		if flags.AgentImage, err = image.Push(ctx, res, repo, image.PushOptions{NoSBOM: true}); err != nil {
			return fmt.Errorf("pushing pyship's agent image for [backup]: %w", err)
		}
		fmt.Fprintf(s.Err, "pushed the backup agent image %s\n", flags.AgentImage)
	}
	b, err := renderPlan(s, p, flags, c.Namespace)
	if err != nil {
		return err
	}
	progress := kubeProgress(s)
	dctx, cancel := context.WithTimeout(ctx, o.kube.timeout)
	defer cancel()
	if p.Backup != nil && p.Backup.Schedule != "" && b.BackupPod != nil {
		// A CronJob whose pod cannot start reports to nobody: say it now.
		if err := c.CheckSigningSecret(dctx, b); err != nil {
			progress("warning: the scheduled backups of %s will not start: %v", b.App, err)
		}
	}
	if err := backupBeforeDeploy(dctx, c, b, progress); err != nil {
		return err
	}
	progress("deploying %s release %s to namespace %s (%s)", b.App, b.Release, c.Namespace, b.Strategy)
	do := kube.DeployOptionsFor(p, progress)
	do.Force = o.kube.force
	defer s.intr.on(func() {
		progress("interrupted: aborting the deploy of %s and rolling back to the live release (Ctrl-C again stops waiting)", b.Release)
		if err := c.Request(context.WithoutCancel(ctx), b.App, kube.RequestAbort); err != nil {
			progress("abort: %v; Ctrl-C again stops waiting (the cluster goes on with the rollout)", err)
		}
	})()
	if cn := p.Deploy.Canary; cn != nil && cn.PrometheusURL != "" {
		pc, err := promql.New(cn.PrometheusURL, nil)
		if err != nil {
			return fmt.Errorf("[deploy.canary] prometheus_url: %w", err)
		}
		do.Metrics, do.Prometheus = (&kube.Prometheus{Client: pc, Namespace: c.Namespace, App: b.App, Sidecar: b.Sidecar}).Metrics, pc
	}
	derr := c.Deploy(dctx, b, do)
	res := kubeDeployResult{App: b.App, Namespace: c.Namespace, Release: b.Release, Image: flags.Image, Strategy: b.Strategy, URL: kubeURL(b, kube.OptionsFor(p).Override(flags))}
	if st, err := c.ReadState(context.WithoutCancel(ctx), b.App); err == nil {
		res.State = *st
	}
	if derr != nil {
		res.Error = derr.Error()
		progress("deploy of %s release %s failed: %v", b.App, b.Release, derr)
	}
	if derr == nil {
		progress("%s release %s is live in namespace %s", b.App, b.Release, c.Namespace)
	}
	if o.output == "json" {
		if err := writeJSON(s.Out, res); err != nil {
			return err
		}
	} else if derr == nil && res.URL != "" {
		fmt.Fprintln(s.Out, res.URL)
	}
	if derr != nil {
		return exitError{ExitFailure}
	}
	return nil
}

// pushImage builds the app's image and pushes it exactly as `pyship build --push` does, and
// returns its reference by digest.
func (o *deployOptions) pushImage(ctx context.Context, s *streams, p *plan.Plan) (string, error) {
	created, err := sourceDateEpoch(s)
	if err != nil {
		return "", usageError{err}
	}
	py := o.python
	if py == "" {
		py = "python3"
	}
	bo := buildOptions{python: py, base: o.kube.base, registry: o.kube.registry, push: true}
	res, err := bo.build(ctx, s, p, created)
	if err != nil {
		return "", err
	}
	if host, _, _ := strings.Cut(res.Image, "/"); isLoopback(host) {
		fmt.Fprintf(s.Err, "warning: the image is on %s: the cluster's nodes must reach it there; set [build] registry (or --registry) for a remote cluster\n", host)
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

// kubeURL is where the deployed app answers: https://HOST with a certificate, http://HOST
// without, else its Service inside the cluster; "" for a worker.
func kubeURL(b *kube.Bundle, o kube.Options) string {
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
func backupBeforeDeploy(ctx context.Context, c *kube.Client, b *kube.Bundle, progress kube.Progress) error {
	if b.BackupBefore == nil {
		return nil
	}
	st, err := c.ReadState(ctx, b.App)
	if err != nil {
		return err
	}
	if st.Active == "" {
		progress("no release of %s is live yet: nothing to back up before this deploy", b.App)
		return nil
	}
	progress("backing up the data of %s release %s before the deploy ([deploy] backup_before)", b.App, st.Active)
	if err := c.RunBackup(ctx, b, st.Active, progress); err != nil {
		return fmt.Errorf("the backup before the deploy failed, so nothing was changed (%s still serves): %w; fix the backup ([backup]) or set [deploy] backup_before = false", st.Active, err)
	}
	return nil
}
