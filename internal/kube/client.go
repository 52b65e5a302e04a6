package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	// Getenv reads KUBECONFIG and HOME for the default kubeconfig files (os.Getenv when nil;
	// the CLI passes its own environment).
	Getenv func(string) string
}

// loadingRules are client-go's default loading rules with the kubeconfig files taken from
// o: --kubeconfig, else the files $KUBECONFIG lists, else $HOME/.kube/config, else none.
func (o ClientOptions) loadingRules() *clientcmd.ClientConfigLoadingRules {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	if kc := getenv(clientcmd.RecommendedConfigPathEnvVar); kc != "" {
		rules.Precedence = nil
		for _, f := range filepath.SplitList(kc) { // each once, first place kept, as client-go does
			if !slices.Contains(rules.Precedence, f) {
				rules.Precedence = append(rules.Precedence, f)
			}
		}
		rules.WarnIfAllMissing = true
	} else if home := getenv("HOME"); home != "" {
		rules.Precedence = []string{filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
		rules.WarnIfAllMissing = false
	} else {
		rules.Precedence = nil // no home, no default file
	}
	return rules
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
	rules := o.loadingRules()
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	files := rules.GetLoadingPrecedence()
	if o.Kubeconfig != "" {
		files = []string{o.Kubeconfig}
	}
	if err := someFileExists(files); err != nil {
		return nil, err
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w (set --kubeconfig or KUBECONFIG, and --context to one of its contexts)", strings.Join(files, ":"), err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.UserAgent = "pyship"
	c, err := NewClient(cfg, ns)
	if err != nil {
		return nil, err
	}
	// One cheap request now, so an unreachable cluster is said as such, naming it, before
	// anything is built or pushed for it.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Core.Discovery().RESTClient().Get().AbsPath("/version").Do(pctx).Error(); err != nil {
		name := o.Context
		if raw, rerr := cc.RawConfig(); rerr == nil && name == "" {
			name = raw.CurrentContext
		}
		return nil, fmt.Errorf("cannot reach the Kubernetes API server %s (context %q of %s): %w; check that the cluster runs and that --kubeconfig and --context name it", cfg.Host, name, strings.Join(files, ":"), err)
	}
	return c, nil
}

// someFileExists fails, naming them, when none of the kubeconfig files exists (client-go
// skips missing files and then says only that no configuration was provided).
func someFileExists(files []string) error {
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			return nil
		}
	}
	switch len(files) {
	case 0:
		return errors.New("no kubeconfig: set --kubeconfig FILE or KUBECONFIG")
	case 1:
		return fmt.Errorf("the kubeconfig %s does not exist: set --kubeconfig or KUBECONFIG to the cluster's kubeconfig file", files[0])
	}
	return fmt.Errorf("none of the kubeconfig files %s exists: set --kubeconfig or KUBECONFIG to the cluster's kubeconfig file", strings.Join(files, ", "))
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
