package gitops

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Bootstrap says where a GitOps controller finds an env folder.
type Bootstrap struct {
	// App and Env name the folder apps/APP/ENV below Root in the repository RepoURL, on
	// Branch (default "main").
	App, Env, Root  string
	RepoURL, Branch string
	// Namespace is the app's namespace (Argo CD's destination).
	Namespace string
	// ControllerNamespace holds the controller's objects (default flux-system or argocd).
	ControllerNamespace string
	// SecretRef names a Secret with the repository's credentials ("" for a public one).
	SecretRef string
	// SOPSSecret names the Secret holding the age key Flux decrypts SOPS files with ("" when
	// the folder has none).
	SOPSSecret string
	// Interval is how often Flux looks at the repository (default 1m).
	Interval string
}

var intervalRE = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)

func (b Bootstrap) check(defaultNS string) (Bootstrap, string, error) {
	dir, err := EnvPath(b.Root, b.App, b.Env)
	if err != nil {
		return b, "", err
	}
	if b.RepoURL == "" {
		return b, "", fmt.Errorf("no repository URL: pass --repo URL (the URL the controller clones)")
	}
	if b.Branch == "" {
		b.Branch = "main"
	}
	if b.ControllerNamespace == "" {
		b.ControllerNamespace = defaultNS
	}
	if b.Namespace == "" {
		b.Namespace = "default"
	}
	if b.Interval == "" {
		b.Interval = "1m"
	}
	if !intervalRE.MatchString(b.Interval) {
		return b, "", fmt.Errorf("--interval %q: give a duration such as 30s, 1m or 1h", b.Interval)
	}
	return b, dir, nil
}

func (b Bootstrap) name() string { return b.App + "-" + b.Env }

// Flux returns a Flux GitRepository on the repository and a Kustomization applying the env
// folder from it (pruning what the folder no longer holds, decrypting SOPS files when
// SOPSSecret is set).
func Flux(b Bootstrap) ([]*unstructured.Unstructured, error) {
	b, dir, err := b.check("flux-system")
	if err != nil {
		return nil, err
	}
	repoSpec := map[string]any{
		"interval": b.Interval,
		"url":      Redact(b.RepoURL),
		"ref":      map[string]any{"branch": b.Branch},
	}
	if b.SecretRef != "" {
		repoSpec["secretRef"] = map[string]any{"name": b.SecretRef}
	}
	ksSpec := map[string]any{
		"interval":  b.Interval,
		"path":      "./" + dir,
		"prune":     true,
		"wait":      true,
		"timeout":   "5m",
		"sourceRef": map[string]any{"kind": "GitRepository", "name": b.name()},
	}
	if b.SOPSSecret != "" {
		ksSpec["decryption"] = map[string]any{"provider": "sops", "secretRef": map[string]any{"name": b.SOPSSecret}}
	}
	return []*unstructured.Unstructured{
		resource(b.App, "source.toolkit.fluxcd.io/v1", "GitRepository", b.name(), b.ControllerNamespace, repoSpec),
		resource(b.App, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", b.name(), b.ControllerNamespace, ksSpec),
	}, nil
}

// ArgoCD returns an Argo CD Application syncing the env folder into the app's namespace,
// automatically, pruning and healing drift.
func ArgoCD(b Bootstrap) ([]*unstructured.Unstructured, error) {
	b, dir, err := b.check("argocd")
	if err != nil {
		return nil, err
	}
	spec := map[string]any{
		"project": "default",
		"source": map[string]any{
			"repoURL":        Redact(b.RepoURL),
			"targetRevision": b.Branch,
			"path":           dir,
		},
		"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": b.Namespace},
		"syncPolicy": map[string]any{
			"automated":   map[string]any{"prune": true, "selfHeal": true},
			"syncOptions": []any{"ServerSideApply=true"},
		},
	}
	return []*unstructured.Unstructured{resource(b.App, "argoproj.io/v1alpha1", "Application", b.name(), b.ControllerNamespace, spec)}, nil
}

func resource(app, apiVersion, kind, name, namespace string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata": map[string]any{
			"name":      name,
			"namespace": namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "pyship", "app.kubernetes.io/name": app},
		},
		"spec": spec,
	}}
}
