package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/spf13/cobra"
)

func newStatusCmd(s *streams) *cobra.Command {
	var f appFlags
	var watch bool
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "status [DIR]",
		Short: "Show the apps on this machine (releases, replicas, health, traffic weights, request and 5xx rates, latency), or the app on Kubernetes",
		Long: `Show the apps on this machine (releases, replicas, health, traffic weights, request and 5xx
rates, latency), or the app on Kubernetes. Given DIR (or --app), only the app of the project in
DIR, whose spec also chooses the target.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var err error
			if f.dir, _, err = projectDirArg(args, 0); err != nil {
				return err
			}
			plat, app, err := f.open(ctx, s, f.dir == "")
			if err != nil {
				return err
			}
			return every(ctx, watch, func() error {
				st, err := plat.Status(ctx, app)
				switch {
				case err != nil:
					return err
				case out.json():
					return writeJSON(s.Out, st)
				case watch && progress.IsTerminal(s.Out):
					fmt.Fprint(s.Out, "\033[H\033[2J")
				}
				return writeStatusText(s.Out, st, time.Now())
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "refresh every second until interrupted")
	out.register(cmd)
	return cmd
}

// writeStatusText writes apps as text, each in its target's own form.
func writeStatusText(w io.Writer, apps []platform.AppStatus, now time.Time) error {
	var local []agent.AppStatus
	for _, a := range apps {
		switch d := a.Detail.(type) {
		case agent.AppStatus:
			local = append(local, d)
		case *kube.AppStatus:
			return writeKubeStatus(w, a.App, a.Namespace, d, now)
		}
	}
	return writeStatus(w, local)
}

// every runs f once, or every second until ctx ends when repeat is set.
func every(ctx context.Context, repeat bool, f func() error) error {
	for {
		if err := f(); err != nil || !repeat {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func writeStatus(w io.Writer, apps []agent.AppStatus) error {
	if len(apps) == 0 {
		_, err := fmt.Fprintln(w, "no apps deployed")
		return err
	}
	for i, a := range apps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		url := a.URL
		switch {
		case a.Stopped:
			url = "stopped"
		case a.Worker:
			url = "worker"
		}
		if a.Worker {
			fmt.Fprintf(w, "%s  %s  stable %s\n", a.App, url, orDash(a.Stable))
		} else {
			fmt.Fprintf(w, "%s  %s  stable %s  metrics %s\n", a.App, url, orDash(a.Stable), a.Metrics)
		}
		if d := a.Deploy; d != nil {
			fmt.Fprintf(w, "last deploy: %s of %s (%s): %s\n", d.Phase, d.Spec.Release, d.Spec.Strategy, firstLine(orDash(d.Message)))
			writeAnalysis(w, d.Analysis)
		}
		writeBackupStatus(w, a.Backup)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if a.Worker {
			fmt.Fprintln(tw, "RELEASE\tVERSION\tLIVE\tREPLICAS")
		} else {
			fmt.Fprintln(tw, "RELEASE\tVERSION\tWEIGHT\tREPLICAS\tREQ/S\t5XX\tP50\tP95\tP99")
		}
		for _, r := range a.Releases {
			ready := 0
			for _, rep := range r.Replicas {
				if rep.Health == "ready" {
					ready++
				}
			}
			reps := "-"
			if len(r.Replicas) > 0 {
				reps = fmt.Sprintf("%d/%d ready", ready, len(r.Replicas))
			}
			if a.Worker {
				live := "-"
				if r.Weight > 0 {
					live = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Version, live, reps)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d%%\t%s\t%.1f\t%.1f%%\t%s\t%s\t%s\n", r.ID, r.Version, r.Weight, reps, r.Rate, 100*r.ErrorRate, r.P50, r.P95, r.P99)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, r := range a.Releases {
			for _, rep := range r.Replicas {
				if rep.Port > 0 {
					fmt.Fprintf(w, "  %s  port %d  pid %d  %s  restarts %d\n", rep.ID, rep.Port, rep.PID, rep.Health, rep.Restarts)
				} else {
					fmt.Fprintf(w, "  %s  pid %d  %s  restarts %d\n", rep.ID, rep.PID, rep.Health, rep.Restarts)
				}
				if rep.Diagnosis != "" {
					fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(rep.Diagnosis, "\n", "\n    "))
				}
			}
		}
	}
	return nil
}

// writeBackupStatus is the app's backup line: schedule, last backup, last error.
func writeBackupStatus(w io.Writer, b *agent.BackupStatus) {
	if b == nil {
		return
	}
	sched := "no schedule"
	if b.Schedule != "" {
		sched = fmt.Sprintf("schedule %q, next %s", b.Schedule, b.Next.Local().Format(time.RFC3339))
	}
	last := "none yet"
	if b.LastID != "" {
		last = fmt.Sprintf("%s at %s", b.LastID, b.LastAt.Local().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "backups: %s; last %s\n", sched, last)
	if b.LastError != "" {
		fmt.Fprintf(w, "last backup error at %s: %s\n", b.LastErrorAt.Local().Format(time.RFC3339), firstLine(b.LastError))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// writeAnalysis prints a canary verdict and each of its checks: the query as run, the value
// and the threshold.
func writeAnalysis(w io.Writer, v *rollout.Verdict) {
	if v == nil {
		return
	}
	fmt.Fprintf(w, "canary analysis: %s: %s\n", v.Outcome, v.Reason)
	for _, l := range v.Explain() {
		fmt.Fprintf(w, "  %s\n", l)
	}
}
