package cli

import (
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

func newLogsCmd(s *streams) *cobra.Command {
	var f appFlags
	var o platform.LogsOptions
	cmd := &cobra.Command{
		Use:   "logs [DIR]",
		Short: "Print the app's logs (the current release by default), each line prefixed by its replica (its pod on Kubernetes)",
		Long:  "Print the app's logs (the current release by default), each line prefixed by its replica (its pod on Kubernetes).\n\n" + appDirHelp,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if f.dir, _, err = projectDirArg(args, 0); err != nil {
				return err
			}
			plat, app, err := f.open(cmd.Context(), s, false)
			if err != nil {
				return err
			}
			return plat.Logs(cmd.Context(), app, s.Out, o)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().StringVar(&o.Release, "release", "", "the release whose logs to print")
	return cmd
}
