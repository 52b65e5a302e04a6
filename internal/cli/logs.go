package cli

import (
	"github.com/pyship/pyship/internal/kube"
	"github.com/spf13/cobra"
)

func newLogsCmd(s *streams) *cobra.Command {
	var o localOptions
	var tf targetFlags
	var follow bool
	var rel string
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print the app's logs (the current release by default), each line prefixed by its replica (its pod on Kubernetes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ka, err := tf.kube(cmd.Context(), s, o.app)
			if err != nil {
				return err
			}
			if ka != nil {
				return ka.c.Logs(cmd.Context(), ka.app, s.Out, kube.LogsOptions{Release: rel, Follow: follow})
			}
			c, err := o.client(cmd.Context(), s)
			if err != nil {
				return err
			}
			if err := o.resolveApp(cmd.Context(), c); err != nil {
				return err
			}
			return c.Logs(cmd.Context(), o.app, rel, follow, s.Out)
		},
	}
	o.addFlags(cmd, true)
	tf.add(cmd.Flags())
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().StringVar(&rel, "release", "", "the release whose logs to print")
	return cmd
}
