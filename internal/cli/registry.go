package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/registry"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

func newRegistryCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run a local OCI registry",
	}
	var o registry.Options
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve a persistent OCI registry on this machine (the default push target)",
		Long: `Serve a persistent OCI registry (CNCF distribution, filesystem storage) until interrupted.
'pyship build' pushes here when no registry is configured. Content survives restarts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				d, err := registry.DefaultDir(s.getenv)
				if err != nil {
					return err
				}
				o.Dir = d
			}
			// distribution logs through logrus's standard logger: warnings only, on stderr.
			logrus.SetOutput(s.Err)
			logrus.SetLevel(logrus.WarnLevel)
			return registry.Serve(cmd.Context(), o, func(addr string) {
				fmt.Fprintf(s.Err, "registry serving on http://%s (content in %s)\n", addr, o.Dir)
			})
		},
	}
	serve.Flags().StringVar(&o.Addr, "addr", registry.DefaultAddr, "address to listen on")
	serve.Flags().StringVar(&o.Dir, "dir", "", "folder holding the registry's content (default $PYSHIP_DATA/registry or ~/.local/share/pyship/registry)")
	cmd.AddCommand(serve)
	return cmd
}
