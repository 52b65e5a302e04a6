package cli

import (
	"fmt"

	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/monitor/dashboard"
	"github.com/pyship/pyship/internal/plan"
	"github.com/spf13/cobra"
)

func newMonitorCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Monitoring: SLO rules, alerts and dashboards as files; Prometheus and Alertmanager under the local agent",
		Long: `monitor render turns the spec's [monitor] objectives into Prometheus recording rules and
multi-window, multi-burn-rate alerts, routes the alerts to [notify] webhook through Alertmanager,
scrapes the local agent's /metrics and writes the app's Grafana dashboard. The agent always serves
a read-only status page on its admin address (http://127.0.0.1:9180/status by default);
` + "`pyship monitor up`" + ` adds a real Prometheus scraping the agent and an Alertmanager, whose firing
alerts the page shows. See docs/monitoring.md.`,
	}
	cmd.AddCommand(newMonitorRenderCmd(s), newMonitorUpCmd(s), newMonitorDownCmd(s))
	return cmd
}

type monitorRenderOptions struct {
	env, outDir     string
	agent, alertmgr string
	out             outputFlag
}

func newMonitorRenderCmd(s *streams) *cobra.Command {
	o := &monitorRenderOptions{}
	cmd := &cobra.Command{
		Use:   "render --output-dir DIR [PROJECT]",
		Short: "Write rules.yml, alertmanager.yml and prometheus.yml for the app in PROJECT",
		Long: `render writes, into the folder given by --output-dir, the monitoring files of the app in
PROJECT (default: the current folder), each replaced atomically:

  rules.yml         SLO recording rules, PyshipSLOBurnFast/PyshipSLOBurnSlow alerts for the
                    [monitor] objectives, and PyshipAppDown (no ready replica)
  alertmanager.yml  every alert to [notify] webhook (Slack-compatible), or to nowhere without one
  prometheus.yml    scrapes the local agent's /metrics (--agent-addr), loads rules.yml and
                    sends alerts to --alertmanager-addr

Run Prometheus with --config.file=DIR/prometheus.yml and a retention at least as long as the
[monitor] window, and Alertmanager with --config.file=DIR/alertmanager.yml. The paths written
are printed on stdout.`,
		Example: `  pyship monitor render --output-dir /etc/pyship-monitoring
  pyship monitor render --output-dir out --env production examples/flask`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.out.validate(); err != nil {
				return err
			}
			if o.outDir == "" {
				return usageError{fmt.Errorf("--output-dir is required: the folder the files are written into, e.g. --output-dir monitoring")}
			}
			p, _, err := plan.ResolvePartial(cmd.Context(), dirArg(args), plan.Options{Env: o.env})
			if err != nil {
				return specUsageError(err)
			}
			files, err := monitor.Files(p, monitor.Options{Agent: o.agent, Alertmanager: o.alertmgr, Dashboard: dashboard.ForPlan})
			if err != nil {
				return err
			}
			paths, err := monitor.WriteFiles(o.outDir, files)
			if err != nil {
				return err
			}
			if o.out.json() {
				return writeJSON(s.Out, map[string]any{"app": p.Name, "files": paths})
			}
			for _, path := range paths {
				fmt.Fprintln(s.Out, path)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.outDir, "output-dir", "", "folder `DIR` the files are written into (created if missing)")
	f.StringVar(&o.env, "env", "", "apply the [env.NAME] overlay of the spec")
	f.StringVar(&o.agent, "agent-addr", "127.0.0.1:9180", "admin address (/metrics) of the local agent Prometheus scrapes")
	f.StringVar(&o.alertmgr, "alertmanager-addr", "127.0.0.1:9093", "address of the Alertmanager Prometheus sends alerts to")
	o.out.register(cmd)
	return cmd
}
