package cli

import (
	"cmp"
	"fmt"
	"path/filepath"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/spf13/cobra"
)

// monitorUpOptions are the flags of `pyship monitor up`.
type monitorUpOptions struct {
	local                  localOptions
	promAddr, amAddr       string
	promBin, alertmanagerB string
}

// binaries resolves the Prometheus and Alertmanager binaries: the flags, else PATH.
func (o *monitorUpOptions) binaries(s *streams) (string, string, error) {
	prom, am := o.promBin, o.alertmanagerB
	if prom == "" || am == "" {
		p, a, err := agent.MonitorBinaries(s.getenv("PATH"))
		if err != nil {
			return "", "", fmt.Errorf("pyship monitor up runs Prometheus and Alertmanager from this machine: %w (or name them with --prometheus and --alertmanager)", err)
		}
		prom, am = cmp.Or(prom, p), cmp.Or(am, a)
	}
	for _, p := range []*string{&prom, &am} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return "", "", err
		}
		*p = abs
	}
	return prom, am, nil
}

func newMonitorUpCmd(s *streams) *cobra.Command {
	var o monitorUpOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run Prometheus and Alertmanager under the local agent, scraping its /metrics",
		Long: `Have the running agent start Prometheus and Alertmanager as its supervised child processes
(restarted when they exit, started again with the agent, stopped by ` + "`pyship monitor down`" + `). Prometheus
scrapes the agent's /metrics (every app's request series) and sends alerts to the Alertmanager; the
status page lists the alerts that fire. Their configuration and data live under the agent's home
(monitor/). The binaries are found on PATH: on Debian and Ubuntu ` + "`apt-get install prometheus\nprometheus-alertmanager`" + `; elsewhere the release tarballs of https://prometheus.io/download/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prom, am, err := o.binaries(s)
			if err != nil {
				return err
			}
			c, err := o.local.client(cmd.Context(), s)
			if err != nil {
				return err
			}
			res, err := c.MonitorUp(cmd.Context(), agent.MonitorConfig{PrometheusAddr: o.promAddr, AlertmanagerAddr: o.amAddr, Prometheus: prom, Alertmanager: am})
			if err != nil {
				return fmt.Errorf("starting Prometheus and Alertmanager: %w", err)
			}
			fmt.Fprintf(s.Err, "Prometheus and Alertmanager run under the agent (configuration in %s)\n", filepath.Join(o.local.home, "monitor"))
			fmt.Fprintf(s.Out, "prometheus   http://%s\nalertmanager http://%s\nstatus page  %s\n", res.PrometheusAddr, res.AlertmanagerAddr, res.StatusPage)
			return nil
		},
	}
	o.local.addFlags(cmd, false)
	cmd.Flags().StringVar(&o.promAddr, "prometheus-addr", agent.DefaultPrometheusAddr, "listen address of Prometheus")
	cmd.Flags().StringVar(&o.amAddr, "alertmanager-addr", agent.DefaultAlertmanagerAddr, "listen address of Alertmanager")
	cmd.Flags().StringVar(&o.promBin, "prometheus", "", "the prometheus binary (default: found on PATH)")
	cmd.Flags().StringVar(&o.alertmanagerB, "alertmanager", "", "the Alertmanager binary (default: alertmanager or prometheus-alertmanager on PATH)")
	return cmd
}

func newMonitorDownCmd(s *streams) *cobra.Command {
	var o localOptions
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the Prometheus and Alertmanager that `pyship monitor up` runs",
		Long:  "Stop the Prometheus and Alertmanager the agent runs; their data stays under the agent's home (monitor/).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client(cmd.Context(), s)
			if err != nil {
				return err
			}
			stopped, err := c.MonitorDown(cmd.Context())
			if err != nil {
				return err
			}
			if stopped {
				fmt.Fprintln(s.Out, "stopped Prometheus and Alertmanager")
			} else {
				fmt.Fprintln(s.Out, "Prometheus and Alertmanager were not running under the agent")
			}
			return nil
		},
	}
	o.addFlags(cmd, false)
	return cmd
}
