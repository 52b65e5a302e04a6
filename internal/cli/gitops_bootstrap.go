package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func newGitOpsBootstrapCmd(s *streams) *cobra.Command {
	var b gitops.Bootstrap
	var env, controller string
	cmd := &cobra.Command{
		Use:   "bootstrap [DIR] --repo URL --env ENV --controller flux|argocd",
		Short: "Print the Flux or Argo CD objects that deploy the env folder `gitops push` writes",
		Long: `bootstrap prints, as YAML for kubectl apply, what makes a GitOps controller deploy the
folder apps/APP/ENV of the repository: for Flux a GitRepository and a Kustomization (pruning,
decrypting SOPS files with --sops-secret), for Argo CD an Application syncing automatically.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			p, err := planSource{dir: dir, env: env, in: s.In}.load(cmd.Context())
			if err != nil {
				return err
			}
			b.App, b.Env = p.Name, env
			if b.Namespace == "" && p.Kubernetes != nil {
				b.Namespace = p.Kubernetes.Namespace
			}
			objs, err := bootstrapObjects(controller, b)
			if err != nil {
				return usageError{err}
			}
			return kube.WriteYAML(s.Out, &kube.Bundle{Objects: objs}, true)
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "the env whose folder is deployed (an [env.NAME] of the spec)")
	f.StringVar(&controller, "controller", "flux", "flux (GitRepository + Kustomization) or argocd (Application)")
	f.StringVar(&b.RepoURL, "repo", "", "the repository's URL, as the controller clones it")
	f.StringVar(&b.Root, "path", "", "folder inside the repository holding apps/ (as given to gitops push)")
	f.StringVar(&b.Branch, "branch", "main", "branch the controller follows")
	f.StringVarP(&b.Namespace, "namespace", "n", "", "the app's namespace (default [kubernetes] namespace, else \"default\")")
	f.StringVar(&b.ControllerNamespace, "controller-namespace", "", "namespace of the controller's objects (default flux-system or argocd)")
	f.StringVar(&b.SecretRef, "secret", "", "Secret with the repository's credentials (Flux's secretRef)")
	f.StringVar(&b.SOPSSecret, "sops-secret", "", "Secret holding the age key Flux decrypts the folder's SOPS files with")
	f.StringVar(&b.Interval, "interval", "1m", "how often Flux looks at the repository")
	return cmd
}

func bootstrapObjects(controller string, b gitops.Bootstrap) ([]*unstructured.Unstructured, error) {
	if b.Env == "" {
		return nil, fmt.Errorf("no environment: pass --env NAME")
	}
	switch controller {
	case "flux":
		return gitops.Flux(b)
	case "argocd":
		return gitops.ArgoCD(b)
	}
	return nil, fmt.Errorf("--controller %q: give flux or argocd", controller)
}
