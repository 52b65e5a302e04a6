package agent

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/local/release"
)

// recordReleaseStart remembers that release id's deploy with strategy started at; the caller holds
// rt.mu. Records of releases that no longer exist are dropped.
func (rt *app) recordReleaseStart(id, strategy string, at time.Time) {
	if rt.st.Deploys == nil {
		rt.st.Deploys = map[string]ReleaseDeploy{}
	}
	ids := release.List(rt.a.paths(), rt.name)
	for r := range rt.st.Deploys {
		if !slices.Contains(ids, r) {
			delete(rt.st.Deploys, r)
		}
	}
	rt.st.Deploys[id] = ReleaseDeploy{Strategy: strategy, Started: at.UTC()}
}

// labelValue escapes s for a label value of Prometheus's text format (backslash, double
// quote and newline; everything else is written as is, UTF-8 included). Go's %q is not that
// format: it writes \t or \u00e9, which Prometheus refuses, failing the whole scrape.
func labelValue(s string) string { return labelEscaper.Replace(s) }

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// releaseSeries is what the release series say of one running release.
type releaseSeries struct {
	app, id, version, strategy string
	started                    time.Time
}

// runningReleases lists the releases of the app that have replicas, sorted by id.
func (rt *app) runningReleases() []releaseSeries {
	running := map[string]bool{}
	for _, i := range rt.sup.List() {
		running[i.Release] = true
	}
	var out []releaseSeries
	for id := range running {
		s := releaseSeries{app: rt.name, id: id}
		if m, err := rt.manifest(id); err == nil {
			s.version = m.Version
		}
		rt.mu.Lock()
		d := rt.st.Deploys[id]
		rt.mu.Unlock()
		s.strategy, s.started = d.Strategy, d.Started
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// writeReleaseMetrics writes pyship_release_info, pyship_release_started_timestamp_seconds
// and pyship_traffic_weight of every app in Prometheus's text format.
func (a *Agent) writeReleaseMetrics(w io.Writer) {
	var rels []releaseSeries
	weights := map[string]map[string]int{}
	for _, n := range a.appNames() {
		rt := a.app(n)
		running := rt.runningReleases()
		rels = append(rels, running...)
		// A release keeps its weight series while it runs or gets traffic: a retired
		// release's 0 would otherwise stay until the next deploy.
		weights[n] = rt.proxy.Weights()
		for id, v := range weights[n] {
			if v == 0 && !slices.ContainsFunc(running, func(r releaseSeries) bool { return r.id == id }) {
				delete(weights[n], id)
			}
		}
	}
	fmt.Fprintln(w, "# HELP pyship_release_info A release that runs (1), with its version and the strategy it was deployed with.")
	fmt.Fprintln(w, "# TYPE pyship_release_info gauge")
	for _, r := range rels {
		fmt.Fprintf(w, "pyship_release_info{app=\"%s\",release=\"%s\",version=\"%s\",strategy=\"%s\"} 1\n",
			labelValue(r.app), labelValue(r.id), labelValue(r.version), labelValue(r.strategy))
	}
	fmt.Fprintln(w, "# HELP pyship_release_started_timestamp_seconds When the deploy of a running release started, in seconds since the epoch.")
	fmt.Fprintln(w, "# TYPE pyship_release_started_timestamp_seconds gauge")
	for _, r := range rels {
		if !r.started.IsZero() {
			fmt.Fprintf(w, "pyship_release_started_timestamp_seconds{app=\"%s\",release=\"%s\"} %.3f\n",
				labelValue(r.app), labelValue(r.id), float64(r.started.UnixMilli())/1000)
		}
	}
	fmt.Fprintln(w, "# HELP pyship_traffic_weight The percent of the app's traffic the proxy sends to a release.")
	fmt.Fprintln(w, "# TYPE pyship_traffic_weight gauge")
	for _, n := range a.appNames() {
		ids := make([]string, 0, len(weights[n]))
		for id := range weights[n] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintf(w, "pyship_traffic_weight{app=\"%s\",release=\"%s\"} %d\n", labelValue(n), labelValue(id), weights[n][id])
		}
	}
}
