package cli

import "github.com/spf13/cobra"

func newGitOpsCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gitops",
		Short: "Keep the app's hydrated Kubernetes objects in a Git repository for Flux or Argo CD",
		Long: `gitops writes each environment's fully rendered objects into a Git repository
(apps/APP/ENV/, buildable with kustomize as is) and the Flux or Argo CD manifests that deploy
them. See docs/gitops.md.`,
	}
	cmd.AddCommand(newGitOpsPushCmd(s), newGitOpsPromoteCmd(s), newGitOpsRollbackCmd(s), newGitOpsBootstrapCmd(s))
	return cmd
}
