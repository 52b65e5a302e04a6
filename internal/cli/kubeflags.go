package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-logr/logr"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform/kubetarget"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// renderFlags are the inputs of `render` and `diff`: the project (or a plan JSON) and the
// rendering choices, which override the spec's [kubernetes] keys.
type renderFlags struct {
	env, planFile string
	opts          kube.Options
}

func (f *renderFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.env, "env", "", "apply the spec's [env.NAME] overlay")
	fs.StringVar(&f.planFile, "plan", "", "read the resolved plan from the JSON `FILE` (written by pyship plan --output json) instead of resolving DIR")
	fs.StringVar(&f.opts.Image, "image", "", "the app image by digest, `REPO@sha256:...` (pyship build --push prints it)")
	addRenderOptions(fs, &f.opts)
}

// addRenderOptions adds the flags that override the spec's [kubernetes] keys.
func addRenderOptions(fs *pflag.FlagSet, o *kube.Options) {
	fs.StringVar(&o.Host, "host", "", "expose the app on this host name: an Ingress, or an HTTPRoute with --gateway ([kubernetes] host)")
	fs.StringVar(&o.TLSSecret, "tls-secret", "", "Secret holding the host's certificate ([kubernetes] tls_secret)")
	fs.StringVar(&o.ClusterIssuer, "cluster-issuer", "", "cert-manager ClusterIssuer asked for the host's certificate ([kubernetes] cluster_issuer)")
	fs.StringVar(&o.IngressClass, "ingress-class", "", "Ingress class name (default: the cluster's default class) ([kubernetes] ingress_class)")
	fs.BoolVar(&o.GatewayAPI, "gateway-api", false, "render a Gateway API HTTPRoute (to the Gateway \"gateway\" unless --gateway) instead of an Ingress")
	fs.StringVar(&o.Gateway, "gateway", "", "render an HTTPRoute attached to this Gateway, NAME or NAMESPACE/NAME ([kubernetes] gateway)")
	fs.StringVar(&o.CPU, "cpu", "", "CPU request per replica (default 250m) ([kubernetes] cpu)")
	fs.StringVar(&o.Memory, "memory", "", "memory request per replica (default 256Mi) ([kubernetes] memory)")
	fs.StringVar(&o.CPULimit, "cpu-limit", "", "CPU limit per replica; sets the worker count (default 1) ([kubernetes] cpu_limit)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "", "memory limit per replica (default 512Mi) ([kubernetes] memory_limit)")
	fs.IntVar(&o.MaxReplicas, "max-replicas", 0, "add a HorizontalPodAutoscaler scaling up to this many replicas ([kubernetes] max_replicas)")
	fs.IntVar(&o.TargetCPU, "target-cpu", 0, "average CPU percent of the request the autoscaler aims at (default 70) ([kubernetes] target_cpu)")
	fs.StringVar(&o.StorageClass, "storage-class", "", "StorageClass of the persistent data volumes ([kubernetes] storage_class)")
	fs.StringVar(&o.StorageSize, "storage-size", "", "size of each persistent data volume (default 1Gi) ([kubernetes] storage_size)")
	fs.StringVar(&o.AgentBase, "agent-base", "", "image pyship's agent image is built on, with pg_dump for [backup] postgres ([kubernetes] agent_base)")
	fs.StringVar(&o.AgentImage, "agent-image", "", "image the [backup] schedule's CronJob runs, REPO@sha256:... (default: pyship's own binary packed as an image beside the app image)")
	fs.BoolVar(&o.Monitoring, "monitoring", false, "add a ServiceMonitor and PrometheusRule, applied only when their CRDs exist ([kubernetes] monitoring)")
}

// bundle renders the plan with the spec's [kubernetes] keys overridden by the flags, into
// namespace (when "", the spec's namespace, else "default"). An image given by tag is
// rendered as given, with a warning: deploy takes images by digest only.
func (f *renderFlags) bundle(s *streams, p *plan.Plan, namespace string) (*kube.Bundle, error) {
	if img := f.opts.Image; img != "" && !strings.Contains(img, "@sha256:") {
		fmt.Fprintf(s.Err, "warning: --image %s has no digest: every pod may not run the same bytes, and the tag can move under the rendered objects; give REPO@sha256:... (`pyship build --push` prints it), as deploy requires\n", img)
	}
	opts := f.opts
	opts.AgentHasPostgres = opts.AgentImage != "" // an agent image of the user's is taken to have pg_dump
	return kubetarget.Render(p, opts, namespace)
}

func (f *renderFlags) resolve(ctx context.Context, args []string, in io.Reader) (*plan.Plan, error) {
	if f.planFile != "" && len(args) > 0 {
		return nil, usageError{fmt.Errorf("give either DIR or --plan, not both")}
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	return planSource{dir: dir, planFile: f.planFile, env: f.env, in: in}.load(ctx)
}

// clusterFlags select the cluster as kubectl does.
type clusterFlags struct {
	opts kube.ClientOptions
}

// connect builds the cluster client: the flags, else the plan's [kubernetes] namespace and
// context (p may be nil), else the kubeconfig's. API warnings go to stderr, and client-go's own
// logging (watch retries already reported as errors) is silenced.
func (f *clusterFlags) connect(ctx context.Context, s *streams, p *plan.Plan) (*kube.Client, error) {
	// klog still writes errors (watch retries, "Unhandled Error") to stderr at its default
	// stderrthreshold once told not to log to stderr; a discarding logger takes them all.
	klog.SetLogger(logr.Discard())
	o := f.opts
	if p != nil && p.Kubernetes != nil {
		if o.Namespace == "" {
			o.Namespace = p.Kubernetes.Namespace
		}
		if o.Context == "" {
			o.Context = p.Kubernetes.Context
		}
	}
	o.Getenv = s.getenv
	c, err := kube.Connect(ctx, o)
	if err != nil {
		return nil, usageError{err}
	}
	c.OnWarning = func(m string) { fmt.Fprintf(s.Err, "warning: %s\n", m) }
	return c, nil
}

func (f *clusterFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.opts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.opts.Context, "context", "", "kubeconfig context (default [kubernetes] context, else the current context)")
	fs.StringVarP(&f.opts.Namespace, "namespace", "n", "", "namespace (default [kubernetes] namespace, else the context's namespace)")
}
