package agent

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// The status page is static HTML, CSS and JavaScript that fill themselves from the JSON of
// /status/data.json with textContent only: nothing a user's spec names is ever parsed as HTML.
//
//go:embed statuspage
var statusFiles embed.FS

// pageCSP allows the page's own script, style and JSON and nothing else: no inline script or
// style, no other origin, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// statusRoutes adds the read-only status page to the admin listener's mux.
func (a *Agent) statusRoutes(mux *http.ServeMux) {
	assets, err := fs.Sub(statusFiles, "statuspage")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	page := func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "index.html")
	}
	mux.Handle("GET /{$}", a.pageGuard(http.RedirectHandler("/status", http.StatusFound)))
	mux.Handle("GET /status", a.pageGuard(http.HandlerFunc(page)))
	mux.Handle("GET /status/assets/", a.pageGuard(http.StripPrefix("/status/assets/", http.FileServerFS(assets))))
	mux.Handle("GET /status/data.json", a.pageGuard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, a.pageData(r.Context()))
	})))
}

// pageGuard sets the page's security headers and answers only requests addressed to the admin
// listener by an IP address or localhost: a page elsewhere cannot read the status through a
// name of its own that resolves to this machine (DNS rebinding).
func (a *Agent) pageGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", pageCSP)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !localHost(r.Host) {
			http.Error(w, "the status page answers requests to an IP address or localhost only", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.ParseIP(host) != nil || strings.EqualFold(host, "localhost")
}

// statusPage is what /status/data.json answers.
type statusPage struct {
	Generated time.Time `json:"generated"`
	// Step is the history's sampling step in seconds (the page polls at the same pace).
	Step   float64     `json:"step"`
	Apps   []pageApp   `json:"apps"`
	Alerts alertsState `json:"alerts"`
}

type pageApp struct {
	App     string        `json:"app"`
	URL     string        `json:"url,omitempty"`
	Stable  string        `json:"stable,omitempty"`
	Stopped bool          `json:"stopped,omitempty"`
	Deploy  *pageDeploy   `json:"deploy,omitempty"`
	Release []pageRelease `json:"releases"`
	// History holds each release's series and "*" the app's whole traffic, as points of
	// [unix ms, requests/s, error ratio, p50 s, p95 s, p99 s], oldest first.
	History map[string][][6]float64 `json:"history"`
	// Deploys are the app's last deploys, newest first.
	Deploys []DeployRecord `json:"deploys"`
	Backup  *BackupStatus  `json:"backup,omitempty"`
}

type pageDeploy struct {
	Release string `json:"release"`
	Phase   string `json:"phase"`
	Message string `json:"message,omitempty"`
}

type pageReplica struct {
	ID       string         `json:"id"`
	Health   rollout.Health `json:"health"`
	Restarts int            `json:"restarts"`
}

type pageRelease struct {
	ID        string        `json:"id"`
	Version   string        `json:"version"`
	Weight    int           `json:"weight"`
	Replicas  []pageReplica `json:"replicas"`
	Rate      float64       `json:"rate"`
	ErrorRate float64       `json:"errorRate"`
	P50       float64       `json:"p50"`
	P95       float64       `json:"p95"`
	P99       float64       `json:"p99"`
}

func (a *Agent) pageData(ctx context.Context) statusPage {
	out := statusPage{Generated: a.Clock.Now().UTC(), Step: a.historyStep().Seconds(), Apps: []pageApp{}}
	for _, n := range a.appNames() {
		rt := a.app(n)
		if rt == nil {
			continue
		}
		st := a.status(n)
		pa := pageApp{App: n, URL: st.URL, Stable: st.Stable, Stopped: st.Stopped, Backup: st.Backup,
			Release: []pageRelease{}, History: map[string][][6]float64{}, Deploys: []DeployRecord{}}
		if d := st.Deploy; d != nil {
			pa.Deploy = &pageDeploy{Release: d.Spec.Release, Phase: string(d.Phase), Message: rt.redact(d.Message)}
		}
		for _, r := range st.Releases {
			pr := pageRelease{ID: r.ID, Version: r.Version, Weight: r.Weight, Replicas: []pageReplica{}, Rate: r.Rate, ErrorRate: r.ErrorRate,
				P50: r.P50.Seconds(), P95: r.P95.Seconds(), P99: r.P99.Seconds()}
			for _, i := range r.Replicas {
				pr.Replicas = append(pr.Replicas, pageReplica{ID: i.ID, Health: i.Health, Restarts: i.Restarts})
			}
			pa.Release = append(pa.Release, pr)
		}
		for rel, pts := range rt.history.snapshot() {
			s := make([][6]float64, len(pts))
			for i, p := range pts {
				s[i] = [6]float64{float64(p.At.UnixMilli()), p.Rate, p.ErrorRate, p.P50, p.P95, p.P99}
			}
			pa.History[rel] = s
		}
		rt.mu.Lock()
		for i := len(rt.st.History) - 1; i >= 0; i-- {
			pa.Deploys = append(pa.Deploys, rt.st.History[i])
		}
		rt.mu.Unlock()
		for i := range pa.Deploys {
			pa.Deploys[i].Message = rt.redact(pa.Deploys[i].Message)
		}
		out.Apps = append(out.Apps, pa)
	}
	out.Alerts = a.firingAlerts(ctx)
	return out
}

// alertsState is what the status page shows of Alertmanager.
type alertsState struct {
	// Configured says an Alertmanager runs under the agent (pyship monitor up).
	Configured bool   `json:"configured"`
	URL        string `json:"url,omitempty"`
	// Prometheus is the URL of the Prometheus that monitor up runs beside it.
	Prometheus string        `json:"prometheus,omitempty"`
	Error      string        `json:"error,omitempty"`
	Firing     []firingAlert `json:"firing"`
}

type firingAlert struct {
	Name     string            `json:"name"`
	Severity string            `json:"severity,omitempty"`
	App      string            `json:"app,omitempty"`
	Summary  string            `json:"summary,omitempty"`
	Since    time.Time         `json:"since"`
	Labels   map[string]string `json:"labels"`
}

// firingAlerts asks the Alertmanager `pyship monitor up` runs for its active alerts (neither
// silenced nor inhibited).
func (a *Agent) firingAlerts(ctx context.Context) alertsState {
	out := alertsState{Firing: []firingAlert{}}
	cfg, running := a.monitor.running()
	if !running {
		return out
	}
	out.Configured = true
	out.URL = "http://" + cfg.AlertmanagerAddr
	out.Prometheus = a.prometheusURL()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.URL+"/api/v2/alerts?active=true&silenced=false&inhibited=false", nil)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out.Error = resp.Status
		return out
	}
	var alerts []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&alerts); err != nil {
		out.Error = fmt.Sprintf("reading the alerts: %v", err)
		return out
	}
	for _, al := range alerts {
		summary := al.Annotations["summary"]
		if summary == "" {
			summary = al.Annotations["description"]
		}
		out.Firing = append(out.Firing, firingAlert{Name: al.Labels["alertname"], Severity: al.Labels["severity"], App: al.Labels["app"],
			Summary: summary, Since: al.StartsAt, Labels: al.Labels})
	}
	sort.Slice(out.Firing, func(i, j int) bool { return out.Firing[i].Since.Before(out.Firing[j].Since) })
	return out
}
