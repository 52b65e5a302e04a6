package cli

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/proxy"
	"github.com/spf13/cobra"
)

func newAgentCmd(s *streams) *cobra.Command {
	var o localOptions
	var admin, bind, acmeCA string
	var httpPort, httpsPort int
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the local agent in the foreground (proxy, supervisor, health checks, metrics)",
		Long: `Run the pyship agent in the foreground. The agent owns the apps deployed to this machine:
their reverse proxies (one small process per app holding its public port, and one shared edge
process holding ports 80 and 443 for the apps that name [edge] hosts, with their TLS; both keep
serving while the agent restarts), supervised replicas, health checks, rollouts and /metrics. ` + "`pyship deploy`" + ` starts
it in the background when it is not running; run it under systemd for production (docs/local.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolveHome(s.getenv); err != nil {
				return err
			}
			// The proxy allocates per request; a larger GC target buys throughput for a little memory.
			debug.SetGCPercent(400)
			a := &agent.Agent{Getenv: s.getenv, Home: o.home, AdminAddr: admin, BindHost: bind, HTTPPort: httpPort, HTTPSPort: httpsPort, ACMERootCA: acmeCA,
				Log: slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))}
			return a.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, false)
	cmd.AddCommand(newAgentProxyCmd(s), newAgentSidecarCmd(s))
	cmd.Flags().StringVar(&admin, "admin-addr", "127.0.0.1:9180", "address of the admin listener serving /metrics")
	cmd.Flags().StringVar(&bind, "bind", "", "address the apps' public ports listen on (default all interfaces)")
	cmd.Flags().IntVar(&httpPort, "http-port", 80, "HTTP port of the shared edge, serving the apps that name [edge] hosts")
	cmd.Flags().IntVar(&httpsPort, "https-port", 443, "HTTPS port of the shared edge")
	cmd.Flags().StringVar(&acmeCA, "acme-ca", "", "PEM file of the CAs to trust for a private ACME directory's HTTPS (default the system's)")
	return cmd
}

// newAgentProxyCmd is the proxy process the agent starts for each app: it holds the public
// listener (file descriptor 3) and serves it on the routing table the agent sets over the
// control socket, and keeps serving while the agent restarts.
func newAgentProxyCmd(s *streams) *cobra.Command {
	var control, acmeCache, acmeCA string
	var edge bool
	cmd := &cobra.Command{
		Use:    "proxy",
		Short:  "Serve one app's public port (started by the agent)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if control == "" {
				return usageError{fmt.Errorf("--control is required: the unix socket the agent configures the proxy on")}
			}
			ln, err := net.FileListener(os.NewFile(3, "public listener"))
			if err != nil {
				return fmt.Errorf("the proxy process needs its public listener as file descriptor 3 (it is started by pyship agent): %w", err)
			}
			debug.SetGCPercent(400)
			log := slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if edge {
				tlsLn, err := net.FileListener(os.NewFile(4, "HTTPS listener"))
				if err != nil {
					return fmt.Errorf("the shared edge process needs its HTTPS listener as file descriptor 4 (it is started by pyship agent): %w", err)
				}
				return proxy.RunEdgeProcess(cmd.Context(), ln, tlsLn, control, proxy.EdgeOptions{CacheDir: acmeCache, RootCAFile: acmeCA, Log: log})
			}
			return proxy.RunProcess(cmd.Context(), ln, control, proxy.Options{Log: log})
		},
	}
	cmd.Flags().StringVar(&control, "control", "", "unix socket the agent configures the proxy on")
	cmd.Flags().BoolVar(&edge, "edge", false, "serve the shared edge: HTTP on file descriptor 3, HTTPS on 4")
	cmd.Flags().StringVar(&acmeCache, "acme-cache", "", "folder of the shared edge's ACME accounts and certificates")
	cmd.Flags().StringVar(&acmeCA, "acme-ca", "", "PEM file of the CAs to trust for the ACME directory's HTTPS")
	return cmd
}
