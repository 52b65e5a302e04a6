package plan

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText prints the plan for people; with explain, the evidence of each value too.
func WriteText(w io.Writer, p *Plan, explain bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(label, value string, keys ...string) {
		fmt.Fprintf(tw, "%s\t%s\n", label, value)
		if !explain {
			return
		}
		for _, k := range keys {
			if e, ok := p.Evidence[k]; ok {
				fmt.Fprintf(tw, "\t  %s\n", FormatEvidence(e))
				break
			}
		}
	}
	line("name", p.Name, "name")
	line("version", p.Version, "version")
	line("python", p.Python.Version, "python.version")
	d := p.Dependencies
	deps := "none"
	if d.Source != "" {
		deps = fmt.Sprintf("%s (%s, %d %s)", d.Source, d.Kind, len(d.Requirements), plural(len(d.Requirements), "requirement"))
	}
	line("dependencies", deps, "dependencies.source")
	for _, r := range d.Requirements {
		fmt.Fprintf(tw, "\t  %s\n", r.Spec)
	}
	if len(d.PipOptions) > 0 {
		line("pip options", strings.Join(d.PipOptions, " "))
	}
	if len(d.Others) > 0 {
		line("also found", strings.Join(d.Others, ", ")+" (not used)")
	}
	r := p.Run
	line("start", r.Shell, "run.command")
	line("kind", r.Kind, "run.kind")
	fw := r.Framework
	if r.Server != "" {
		fw += ", served by " + r.Server
	}
	if r.App != "" {
		fw += ", app " + r.App
	}
	line("framework", fw, "run.server", "run.framework")
	if len(r.PythonPath) > 0 {
		line("python path", strings.Join(r.PythonPath, ":"), "run.pythonPath")
	}
	if r.Kind == "web" {
		line("port", strconv.Itoa(r.Port), "run.port")
	}
	line("workers", strconv.Itoa(r.Workers), "run.workers")
	h := p.Health
	hs := h.Type
	if h.Path != "" {
		hs += " " + h.Path
	}
	hs += fmt.Sprintf(" every %s, timeout %s, startup %s", h.Interval, h.Timeout, h.StartupTimeout)
	line("health", hs, "health.path", "health.type")
	if p.Config != nil {
		line("config", p.Config.Path+"/", "config")
	}
	if len(p.Data) > 0 {
		var ds []string
		for _, f := range p.Data {
			kind := "static"
			if f.Persistent {
				kind = "persistent"
			}
			ds = append(ds, fmt.Sprintf("%s/ (%s)", f.Path, kind))
		}
		line("data", strings.Join(ds, ", "), "data")
	}
	if len(p.Env) > 0 {
		names := make([]string, 0, len(p.Env))
		for k := range p.Env {
			names = append(names, k)
		}
		sort.Strings(names)
		line("env", strings.Join(names, ", "))
	}
	if p.SecretsFile != "" {
		line("secrets", p.SecretsFile, "secretsFile")
	}
	line("base image", p.Build.Base, "build.base")
	if p.Build.Registry != "" {
		line("registry", p.Build.Registry, "build.registry")
	}
	line("target", p.Deploy.Target, "deploy.target")
	line("strategy", string(p.Deploy.Strategy), "deploy.strategy")
	line("replicas", strconv.Itoa(p.Deploy.Replicas), "deploy.replicas")
	if c := p.Deploy.Canary; c != nil {
		steps := make([]string, len(c.Steps))
		for i, s := range c.Steps {
			steps[i] = strconv.Itoa(s) + "%"
		}
		line("canary", fmt.Sprintf("%s, pause %s, min %d requests, max error rate %g, max latency ratio %g",
			strings.Join(steps, " -> "), c.Pause, c.MinRequests, c.MaxErrorRate, c.MaxLatencyRatio), "deploy.canary")
	}
	if k := p.Kubernetes; k != nil {
		var parts []string
		for _, kv := range [][2]string{{"namespace", k.Namespace}, {"context", k.Context}, {"host", k.Host}, {"gateway", k.Gateway}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+" "+kv[1])
			}
		}
		if len(parts) > 0 {
			line("kubernetes", strings.Join(parts, ", "))
		}
	}
	if bk := p.Backup; bk != nil {
		line("backup to", firstNonEmpty(bk.Destination, "(no destination: --dest or $PYSHIP_BACKUP_DEST)"), "backup.destination")
		line("backup schedule", firstNonEmpty(bk.Schedule, "none (pyship backup now, backup_before)"), "backup.schedule")
		var srcs []string
		for _, f := range bk.Folders {
			srcs = append(srcs, f+"/")
		}
		for _, f := range bk.SQLite {
			srcs = append(srcs, f+" (sqlite)")
		}
		for _, pg := range bk.Postgres {
			srcs = append(srcs, fmt.Sprintf("%s (postgres, DSN in $%s)", pg.Name, pg.Secret))
		}
		line("backup sources", firstNonEmpty(strings.Join(srcs, ", "), "none"), "backup.folders")
		r := bk.Retention
		line("backup keeps", fmt.Sprintf("last %d, daily %d, weekly %d", r.KeepLast, r.KeepDaily, r.KeepWeekly), "backup.retention")
		line("encrypted to", fmt.Sprintf("%d age %s", len(bk.Recipients), plural(len(bk.Recipients), "recipient")), "backup.recipients")
		line("signed by", fmt.Sprintf("%d pinned %s", len(bk.SigningPublicKeys), plural(len(bk.SigningPublicKeys), "key")), "backup.signingPublicKeys")
	}
	if m := p.Monitor; m != nil {
		if m.Availability > 0 {
			line("availability objective", fmt.Sprintf("%g%% of requests not 5xx over %s", m.Availability, m.Window), "monitor.availability")
		}
		if m.Latency != "" {
			line("latency objective", fmt.Sprintf("%g%% of requests within %s over %s", m.LatencyPercentile, m.Latency, m.Window), "monitor.latency")
		}
		if m.Local {
			line("monitoring", "a local deploy starts the agent's Prometheus and Alertmanager", "monitor.local")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Warnings) > 0 {
		if _, err := fmt.Fprintf(w, "\nwarnings:\n"); err != nil {
			return err
		}
		for _, wn := range p.Warnings {
			if _, err := fmt.Fprintf(w, "  - %s\n", wn); err != nil {
				return err
			}
		}
	}
	return nil
}

// FormatEvidence is "(Procfile:1, rule: Procfile web: process)".
func FormatEvidence(e Evidence) string {
	var parts []string
	if loc := location(e); loc != "" {
		parts = append(parts, loc)
	}
	parts = append(parts, "rule: "+e.Rule)
	s := strings.Join(parts, ", ")
	if e.Note != "" {
		s += "; " + e.Note
	}
	return "(" + s + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
