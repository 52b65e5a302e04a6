package agent

import (
	"sort"
	"sync"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/rollout"
)

// AppStatus is what `pyship status` shows of one app.
type AppStatus struct {
	App     string `json:"app"`
	URL     string `json:"url,omitempty"`
	Metrics string `json:"metrics"`
	Stable  string `json:"stable,omitempty"`
	Stopped bool   `json:"stopped,omitempty"`
	// Worker says the app serves no requests (its stable release's [run] kind): no URL,
	// ports or traffic figures.
	Worker bool            `json:"worker,omitempty"`
	Deploy *rollout.Status `json:"deploy,omitempty"`
	// Serial is the app's state serial (AppState.Serial).
	Serial int64 `json:"serial"`
	// Backup is the app's backup schedule and last results; nil when it has neither.
	Backup   *BackupStatus   `json:"backup,omitempty"`
	Releases []ReleaseStatus `json:"releases"`
}

// ReleaseStatus is one release of an app with its replicas and traffic figures.
type ReleaseStatus struct {
	ID       string           `json:"id"`
	Version  string           `json:"version"`
	Created  time.Time        `json:"created"`
	Weight   int              `json:"weight"`
	Replicas []supervise.Info `json:"replicas"`
	Requests int64            `json:"requests"`
	// Refused counts the requests the proxy refused (4xx it answered itself, clients that
	// left): the clients' doing, outside Requests and the error rate.
	Refused int64 `json:"refused,omitempty"`
	// Rate is requests per second and ErrorRate the 5xx share, both over the last 10 s.
	Rate      float64       `json:"rate"`
	ErrorRate float64       `json:"errorRate"`
	P50       time.Duration `json:"p50"`
	P95       time.Duration `json:"p95"`
	P99       time.Duration `json:"p99"`
}

// rateSamples keeps recent metric snapshots to compute rates.
type rateSamples struct {
	mu   sync.Mutex
	hist []sample
}

type sample struct {
	at  time.Time
	rel map[string]rollout.Metrics
}

// cumulative reads the proxy's cumulative counters of each of the app's releases.
func (rt *app) cumulative() (map[string]rollout.Metrics, error) {
	rels := map[string]rollout.Metrics{}
	for _, id := range release.List(rt.a.paths(), rt.name) {
		m, err := rt.proxy.Metrics(id)
		if err != nil {
			return nil, err
		}
		rels[id] = m
	}
	return rels, nil
}

func (s *rateSamples) add(rels map[string]rollout.Metrics, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hist = append(s.hist, sample{at: now, rel: rels})
	for len(s.hist) > 0 && now.Sub(s.hist[0].at) > 11*time.Second {
		s.hist = s.hist[1:]
	}
}

// window returns the metrics of rel over the recent window and its length.
func (s *rateSamples) window(rel string, now rollout.Metrics, at time.Time) (rollout.Metrics, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.hist) == 0 {
		return rollout.Metrics{}, 0
	}
	old := s.hist[0]
	return now.Sub(old.rel[rel]), at.Sub(old.at)
}

func (a *Agent) status(name string) AppStatus {
	rt := a.app(name)
	rt.mu.Lock()
	st := *rt.st
	if st.Backup != nil {
		cp := *st.Backup
		st.Backup = &cp
	}
	var dep *rollout.Status
	if st.Deploy != nil {
		cp := *st.Deploy
		dep = &cp
	}
	rt.mu.Unlock()
	serving := rt.proxy.serving() != nil
	out := AppStatus{App: name, Stable: st.Stable, Stopped: st.Stopped, Deploy: dep, Serial: st.Serial, Metrics: "http://" + a.adminAddr + "/metrics",
		Backup: rt.backupStatus(&st)}
	out.Worker = rt.worker()
	if serving && !out.Worker {
		out.URL = rt.proxy.publicURL(st.Port)
	}
	reps := map[string][]supervise.Info{}
	for _, i := range rt.sup.List() {
		i.Diagnosis = rt.redact(i.Diagnosis)
		reps[i.Release] = append(reps[i.Release], i)
	}
	w := rt.proxy.Weights()
	now := a.Clock.Now()
	for _, id := range release.List(a.paths(), name) {
		rs := ReleaseStatus{ID: id, Weight: w[id], Replicas: reps[id]}
		if m, err := rt.manifest(id); err == nil {
			rs.Version, rs.Created = m.Version, m.Created
		}
		cum, _ := rt.proxy.Metrics(id)
		rs.Requests, rs.Refused = cum.Requests, cum.Refused
		win, d := rt.samples.window(id, cum, now)
		if d > 0 {
			rs.Rate = float64(win.Requests) / d.Seconds()
		}
		if win.Requests > 0 {
			rs.ErrorRate = float64(win.Errors) / float64(win.Requests)
			rs.P50, rs.P95, rs.P99 = win.Quantile(0.5), win.Quantile(0.95), win.Quantile(0.99)
		} else {
			rs.P50, rs.P95, rs.P99 = cum.Quantile(0.5), cum.Quantile(0.95), cum.Quantile(0.99)
		}
		out.Releases = append(out.Releases, rs)
	}
	sort.Slice(out.Releases, func(i, j int) bool { return out.Releases[i].Created.After(out.Releases[j].Created) })
	return out
}

func displayHost(h string) string {
	if h == "" || h == "0.0.0.0" || h == "::" {
		return "127.0.0.1"
	}
	return h
}
