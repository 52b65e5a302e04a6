package kube

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// ClientOptions select the cluster like kubectl does: KUBECONFIG and the current context by default.
type ClientOptions struct {
	// Kubeconfig is a kubeconfig file (--kubeconfig); "" uses $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context (--context); "" uses the current context.
	Context string
	// Namespace overrides the context's namespace (--namespace).
	Namespace string
}

// Client talks to one cluster and namespace.
type Client struct {
	Namespace string
	Config    *rest.Config
	Core      kubernetes.Interface
	Dynamic   dynamic.Interface
	Mapper    meta.ResettableRESTMapper
	Discovery discovery.CachedDiscoveryInterface
	// OnWarning receives the API server's warnings (deprecations, pod security); nil drops them.
	OnWarning func(message string)
}

// warningSink forwards API warnings to the Client's OnWarning instead of client-go's logger.
type warningSink struct{ c *Client }

func (w warningSink) HandleWarningHeader(code int, agent, message string) {
	if code == 299 && message != "" && w.c.OnWarning != nil {
		w.c.OnWarning(message)
	}
}

// Connect loads the kubeconfig and builds the clients; it does not contact the cluster.
func Connect(ctx context.Context, o ClientOptions) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w (set --kubeconfig or KUBECONFIG, and --context to one of its contexts)", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.UserAgent = "pyship"
	return NewClient(cfg, ns)
}

// NewClient builds a Client from a REST config.
func NewClient(cfg *rest.Config, namespace string) (*Client, error) {
	if namespace == "" {
		namespace = "default"
	}
	c := &Client{Namespace: namespace}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = warningSink{c}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client for %s: %w", cfg.Host, err)
	}
	disco := memory.NewMemCacheClient(core.Discovery())
	c.Config, c.Core, c.Dynamic, c.Discovery = cfg, core, dyn, disco
	c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(disco)
	return c, nil
}
