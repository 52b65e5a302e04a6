package cli

import (
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/pyship/pyship/internal/sidecar"
	"github.com/spf13/cobra"
)

// newAgentSidecarCmd is the proxy sidecar of a pod on Kubernetes: pyship's proxy in front of
// the app container of the same pod, exporting the per-release request series
// (docs/monitoring.md, Kubernetes sidecar). The rendered pod starts it.
func newAgentSidecarCmd(s *streams) *cobra.Command {
	var listen, metrics string
	var o sidecar.Options
	cmd := &cobra.Command{
		Use:    "sidecar",
		Short:  "Proxy a pod's app and export its request metrics (started by Kubernetes)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s.signalStops = true
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return usageError{fmt.Errorf("--listen %s: %w", listen, err)}
			}
			mln, err := net.Listen("tcp", metrics)
			if err != nil {
				ln.Close()
				return usageError{fmt.Errorf("--metrics-listen %s: %w", metrics, err)}
			}
			debug.SetGCPercent(400) // as the agent's proxy: a little memory for throughput
			o.Log = slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
			return sidecar.Run(cmd.Context(), ln, mln, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8080", "address the app's traffic comes to")
	f.StringVar(&metrics, "metrics-listen", ":9180", "address serving /metrics and /healthz")
	f.StringVar(&o.Backend, "backend", "", "the app's address in the pod, host:port")
	f.StringVar(&o.App, "app", "", "app label of the series")
	f.StringVar(&o.Release, "release", "", "release label of the series")
	f.StringVar(&o.Version, "version", "", "version label of pyship_release_info")
	f.StringVar(&o.Strategy, "strategy", "", "strategy label of pyship_release_info")
	f.DurationVar(&o.RequestTimeout, "request-timeout", 60*time.Second, "how long to wait for the app's response headers before answering 504")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "how long in-flight requests may take once stopped")
	return cmd
}
