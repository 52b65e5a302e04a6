package cli

import (
	"cmp"
	"fmt"

	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newRollbackCmd(s *streams) *cobra.Command {
	var f appFlags
	var o platform.RollbackOptions
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "rollback [RELEASE] [DIR]",
		Short: "Serve an earlier release again (default: the last good one before the stable release)",
		Long: `Roll back to RELEASE (default: the newest release before the stable one that was deployed
successfully; releases whose deploy failed are skipped). A release still warm
from a blue-green deploy switches back at once; otherwise its replicas start, pass their health
gate, and then get all traffic.

On Kubernetes the previous release comes back: the saved Deployment of the release before
the active one for the rolling strategy, the previous release's pods behind the Service for
blue-green and canary. The two releases swap places: a second rollback undoes the first.

` + appDirHelp + `

One argument is DIR when it names a folder (an existing folder, or a path: /..., ./...,
../...), else RELEASE; an unknown release is said with the releases there are.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var err error
			if o.Release, f.dir, err = rollbackArgs(args); err != nil {
				return err
			}
			plat, app, err := f.open(ctx, s, false)
			if err != nil {
				return err
			}
			o.Progress, o.Interrupts = s.Err, s.intr
			o.IdentityFile = cmp.Or(o.IdentityFile, s.getenv("PYSHIP_BACKUP_IDENTITY_FILE"))
			ev := newEventPrinter(s.Err)
			o.Events = ev.print
			res, err := plat.Rollback(ctx, app, o)
			ev.close()
			done := ""
			if err == nil && res.OK() {
				done = fmt.Sprintf("%s rolled back: release %s is active", app, orDash(res.Active))
			}
			return reportResult(s, out.String(), app, res, err, ev, done)
		},
	}
	f.add(cmd)
	addRollbackData(cmd.Flags(), &o)
	addForceConflicts(cmd.Flags(), &f.force)
	out.register(cmd)
	cmd.Flags().BoolVar(&o.Force, "force", false, "roll back to a named release even if it was never promoted (its deploy failed or was aborted)")
	return cmd
}

// rollbackArgs reads [RELEASE] [DIR]: one argument is DIR when it names a folder, else RELEASE.
func rollbackArgs(args []string) (release, dir string, err error) {
	if len(args) == 1 && namesFolder(args[0]) {
		dir, _, err = projectDirArg(args, 0)
		return "", dir, err
	}
	dir, args, err = projectDirArg(args, 1)
	if len(args) == 1 {
		release = args[0]
	}
	return release, dir, err
}

// addRollbackData adds `--with-data`: the data folders (and databases) go back to the backup
// a deploy took of the target release before replacing it ([deploy] backup_before).
func addRollbackData(f *pflag.FlagSet, o *platform.RollbackOptions) {
	f.BoolVar(&o.WithData, "with-data", false, "also restore the data the deploy that replaced RELEASE backed up first ([deploy] backup_before); the app stops while it is restored")
	f.StringVar(&o.IdentityFile, "identity-file", "", "age identity file for --with-data (env PYSHIP_BACKUP_IDENTITY_FILE)")
	f.StringVar(&o.IdentitySecret, "identity-secret", "", "kubernetes: the Secret holding the age identity (key identity) the restore pod reads for --with-data (default APP-backup-identity)")
}
