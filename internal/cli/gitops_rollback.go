package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/spf13/cobra"
)

func newGitOpsRollbackCmd(s *streams) *cobra.Command {
	var app, env, repo, root, author string
	var t gitops.Target
	cmd := &cobra.Command{
		Use:   "rollback --app APP --env ENV --repo URL",
		Short: "Roll an env back through Git: a revert commit of its folder's last change",
		Long: `rollback writes a commit that puts apps/APP/ENV back as it was before the last commit that
changed it ("Revert ..., This reverts commit ..."), and pushes it (on its own branch with
--branch). The controller then applies the previous release; Git's history keeps both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := gitops.EnvPath(root, app, env)
			if err != nil {
				return usageError{err}
			}
			if err := gitTarget(&t, repo, author, s.getenv); err != nil {
				return err
			}
			if t.Branch == gitops.AutoBranch {
				t.Branch = "pyship/rollback-" + app + "-" + env
			}
			res, reverted, err := gitops.Rollback(cmd.Context(), t, dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "reverted %s in %s\n", reverted, dir)
			return printPublish(s, res, dir)
		},
	}
	f := cmd.Flags()
	f.StringVar(&app, "app", "", "the app's name")
	f.StringVar(&env, "env", "", "the env to roll back")
	addGitTargetFlags(f, &repo, &root, &author, &t)
	return cmd
}
