package cli

import (
	"log/slog"
	"runtime/debug"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/spf13/cobra"
)

func newAgentCmd(s *streams) *cobra.Command {
	var o localOptions
	var admin, bind string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the local agent in the foreground (proxy, supervisor, health checks, metrics)",
		Long: `Run the pyship agent in the foreground. The agent owns the apps deployed to this machine:
their reverse proxies, supervised replicas, health checks, rollouts and /metrics. ` + "`pyship deploy`" + ` starts
it in the background when it is not running; run it under systemd for production (docs/local.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolveHome(); err != nil {
				return err
			}
			// The proxy allocates per request; a larger GC target buys throughput for a little memory.
			debug.SetGCPercent(400)
			a := &agent.Agent{Home: o.home, AdminAddr: admin, BindHost: bind,
				Log: slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))}
			return a.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, false)
	cmd.Flags().StringVar(&admin, "admin-addr", "127.0.0.1:9180", "address of the admin listener serving /metrics")
	cmd.Flags().StringVar(&bind, "bind", "", "address the apps' public ports listen on (default all interfaces)")
	return cmd
}
