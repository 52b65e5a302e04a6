package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// renderFlags are the inputs of `render` and `diff`: the project (or a plan JSON) and the
// rendering choices the spec does not carry yet.
type renderFlags struct {
	env, planFile string
	opts          kube.Options
}

func (f *renderFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.env, "env", "", "apply the spec's [env.NAME] overlay")
	fs.StringVar(&f.planFile, "plan", "", "read the resolved plan from this JSON file (`pyship plan --output json`) instead of resolving DIR")
	fs.StringVar(&f.opts.Image, "image", "", "the app image by digest, REPO@sha256:... (required until render builds it)")
	fs.StringVar(&f.opts.Host, "host", "", "expose the app on this host name (Ingress, or HTTPRoute with --gateway-api)")
	fs.StringVar(&f.opts.TLSSecret, "tls-secret", "", "Secret holding the host's certificate")
	fs.StringVar(&f.opts.ClusterIssuer, "cluster-issuer", "", "cert-manager ClusterIssuer asked for the host's certificate")
	fs.StringVar(&f.opts.IngressClass, "ingress-class", "", "Ingress class name (default: the cluster's default class)")
	fs.BoolVar(&f.opts.GatewayAPI, "gateway-api", false, "render a Gateway API HTTPRoute instead of an Ingress")
	fs.StringVar(&f.opts.Gateway, "gateway", "", "the HTTPRoute's parent Gateway, NAME or NAMESPACE/NAME (default \"gateway\")")
	fs.StringVar(&f.opts.CPU, "cpu", "", "CPU request per replica (default 250m)")
	fs.StringVar(&f.opts.Memory, "memory", "", "memory request per replica (default 256Mi)")
	fs.StringVar(&f.opts.CPULimit, "cpu-limit", "", "CPU limit per replica; sets the worker count (default 1)")
	fs.StringVar(&f.opts.MemoryLimit, "memory-limit", "", "memory limit per replica (default 512Mi)")
	fs.IntVar(&f.opts.MaxReplicas, "max-replicas", 0, "add a HorizontalPodAutoscaler scaling up to this many replicas")
	fs.StringVar(&f.opts.StorageClass, "storage-class", "", "StorageClass of the persistent data volumes")
	fs.BoolVar(&f.opts.Monitoring, "monitoring", false, "add a ServiceMonitor and PrometheusRule (applied only when their CRDs exist)")
}

// bundle resolves the plan and renders it.
func (f *renderFlags) bundle(ctx context.Context, args []string, namespace string) (*kube.Bundle, *plan.Plan, error) {
	p, err := f.resolve(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	o := f.opts
	o.Namespace = namespace
	if err := kube.LoadInputs(p, &o); err != nil {
		return nil, nil, err
	}
	b, err := kube.Render(p, o)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return b, p, nil
}

func (f *renderFlags) resolve(ctx context.Context, args []string) (*plan.Plan, error) {
	if f.planFile != "" && len(args) > 0 {
		return nil, usageError{fmt.Errorf("give either DIR or --plan, not both")}
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	return planSource{dir: dir, planFile: f.planFile, env: f.env}.load(ctx)
}

// clusterFlags select the cluster as kubectl does.
type clusterFlags struct {
	opts kube.ClientOptions
}

// connect builds the cluster client; API warnings go to stderr, and client-go's own logging
// (watch retries already reported as errors) is silenced.
func (f *clusterFlags) connect(ctx context.Context, s *streams) (*kube.Client, error) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	c, err := kube.Connect(ctx, f.opts)
	if err != nil {
		return nil, usageError{err}
	}
	c.OnWarning = func(m string) { fmt.Fprintf(s.Err, "warning: %s\n", m) }
	return c, nil
}

func (f *clusterFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.opts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.opts.Context, "context", "", "kubeconfig context (default the current context)")
	fs.StringVarP(&f.opts.Namespace, "namespace", "n", "", "namespace (default the context's namespace)")
}
