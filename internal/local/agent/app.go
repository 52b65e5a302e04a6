package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/rollout"
)

// app is one app's runtime: its proxy, supervised replicas and state. It is the local
// rollout.Target.
type app struct {
	a     *Agent
	name  string
	log   *slog.Logger
	proxy *router
	sup   *supervise.Supervisor

	mu        sync.Mutex // guards st, manifests, flags
	st        *AppState
	manifests map[string]*release.Manifest
	promote   bool
	abort     bool

	deploying  sync.Mutex  // one rollout at a time
	recovering atomic.Bool // a deploy interrupted by a restart is being rolled back
	active     atomic.Bool // a user's deploy or rollback runs
	samples    rateSamples
	history    *history // the status page's last hour of traffic
	backups    backups
}

// newApp makes the runtime of an app whose proxy follows the manifest m (nil: defaults).
func (a *Agent) newApp(st *AppState, m *release.Manifest) *app {
	rt := &app{a: a, name: st.App, st: st, manifests: map[string]*release.Manifest{}, log: a.log().With("app", st.App),
		history: newHistory(historyPoints, a.historyStep())}
	opts, err := proxyOptions(m)
	if err != nil {
		rt.log.Error("the app's proxy lets nobody in until its access rules can be read", "err", err)
	}
	rt.proxy = newRouter(a, st.App, rt.log, opts)
	rt.proxy.setEdge(edgeApp(m))
	rt.sup = &supervise.Supervisor{Home: a.Home, Log: rt.log,
		OnReady: func(i supervise.Info) {
			rt.recordPort(i)
			if m, err := rt.manifest(i.Release); err == nil && m.Plan.Run.Kind != "worker" {
				rt.proxy.AddBackend(i.ID, i.Release, net.JoinHostPort("127.0.0.1", strconv.Itoa(i.Port)))
			}
		},
		OnUnready: func(i supervise.Info) { rt.proxy.RemoveBackend(a.ctx, i.ID) },
	}
	return rt
}

// recordPort keeps the port of a ready replica in the app's state: the supervisor chooses
// another when the app found the first one taken, and the next agent adopts the replica there.
func (rt *app) recordPort(i supervise.Info) {
	rt.mu.Lock()
	changed := false
	for k := range rt.st.Replicas {
		if rec := &rt.st.Replicas[k]; rec.ID == i.ID && rec.Port != i.Port {
			rec.Port, changed = i.Port, true
		}
	}
	rt.mu.Unlock()
	if changed {
		if err := rt.save(); err != nil {
			rt.log.Error("recording the new port of a replica", "replica", i.ID, "port", i.Port, "err", err)
		}
	}
}

func (rt *app) save() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return saveState(rt.a.paths(), rt.st)
}

// worker reports whether the app is a worker (its stable release's kind): it serves no
// traffic, and is never said to.
func (rt *app) worker() bool {
	rt.mu.Lock()
	id := rt.st.Stable
	rt.mu.Unlock()
	m, err := rt.manifest(id)
	return err == nil && m.Plan.Run.Kind == "worker"
}

func (rt *app) manifest(id string) (*release.Manifest, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if m, ok := rt.manifests[id]; ok {
		return m, nil
	}
	m, err := release.Load(rt.a.paths(), rt.name, id)
	if err != nil {
		return nil, err
	}
	rt.manifests[id] = m
	return m, nil
}

// serve has a proxy process serve the app on its public port (once); a worker (port 0) has
// none, and gets no proxy (a listener on port 0 would be a random port).
func (rt *app) serve(port int) error {
	if port <= 0 {
		return nil
	}
	rt.mu.Lock()
	known := map[string]bool{}
	for _, rec := range rt.st.Replicas {
		known[rec.ID] = true
	}
	rt.mu.Unlock()
	if err := rt.proxy.serve(port, known); err != nil {
		return err
	}
	rt.mu.Lock()
	rt.st.Port = port
	rt.mu.Unlock()
	return nil
}

// Replicas implements rollout.Target.
func (rt *app) Replicas(context.Context) ([]rollout.Replica, error) {
	var out []rollout.Replica
	for _, i := range rt.sup.List() {
		out = append(out, rollout.Replica{ID: i.ID, Release: i.Release, Health: i.Health, Diagnosis: rt.redact(i.Diagnosis)})
	}
	return out, nil
}

// Start implements rollout.Target: the replica is recorded before its process starts, so a
// crash in between leaves a record the next agent acts on, never an unknown process.
func (rt *app) Start(ctx context.Context, rel string, n int) error {
	m, err := rt.manifest(rel)
	if err != nil {
		return err
	}
	for range n {
		port := 0 // a worker listens on nothing and gets no $PORT
		if m.Plan.Run.Kind != "worker" {
			if port, err = supervise.FreePort(); err != nil {
				return err
			}
		}
		rt.mu.Lock()
		rt.st.NextReplica++
		rec := ReplicaRecord{ID: fmt.Sprintf("%s-%s-%d", rt.name, rel, rt.st.NextReplica), Release: rel, Port: port}
		rt.st.Replicas = append(rt.st.Replicas, rec)
		rt.mu.Unlock()
		if err := rt.save(); err != nil {
			return err
		}
		if err := rt.launch(ctx, m, rec, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

func (rt *app) launch(ctx context.Context, m *release.Manifest, rec ReplicaRecord, pid int, start uint64) error {
	spec, err := rt.spec(m, rec)
	if err != nil {
		return err
	}
	return rt.sup.Start(rt.a.ctx, spec, pid, start)
}

// spec is how a replica of release m runs.
func (rt *app) spec(m *release.Manifest, rec ReplicaRecord) (supervise.Spec, error) {
	p := m.Plan
	logDir := rt.a.paths().Logs(rt.name, m.ID)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return supervise.Spec{}, err
	}
	env := []string{
		"PATH=" + filepath.Join(m.Venv, "bin") + ":" + rt.a.basePath(),
		"VIRTUAL_ENV=" + m.Venv,
		"PYTHONUNBUFFERED=1",
		"HOME=" + rt.a.getenv("HOME"),
		"LANG=C.UTF-8",
	}
	if len(p.Run.PythonPath) > 0 {
		var pp []string
		for _, d := range p.Run.PythonPath {
			pp = append(pp, filepath.Join(m.AppDir, d))
		}
		env = append(env, "PYTHONPATH="+strings.Join(pp, ":"))
	}
	for k, v := range m.Env {
		env = append(env, k+"="+v)
	}
	if m.SecretsFile != "" {
		sec, err := release.ReadSecrets(m.SecretsFile)
		if err != nil {
			return supervise.Spec{}, err
		}
		for k, v := range sec {
			env = append(env, k+"="+v)
		}
	}
	if p.Run.PrometheusMultiproc {
		mp, err := rt.multiprocEnv(rec.ID)
		if err != nil {
			return supervise.Spec{}, err
		}
		env = append(env, mp...)
	}
	slices.Sort(env)
	probe := supervise.Probe{Type: p.Health.Type, Path: p.Health.Path,
		Interval: dur(p.Health.Interval, 2*time.Second), Timeout: dur(p.Health.Timeout, 2*time.Second),
		StartupTimeout: dur(p.Health.StartupTimeout, 60*time.Second)}
	if p.Run.Kind == "worker" {
		probe.Type = "process"
	}
	if probe.Type == "" {
		probe.Type = "http"
	}
	return supervise.Spec{ID: rec.ID, Release: rec.Release, Dir: m.AppDir, Command: p.Run.Command, Env: env, Port: rec.Port,
		LogFile: filepath.Join(logDir, rec.ID+".log"), Probe: probe, Grace: 10 * time.Second}, nil
}

// proxyOptions configures the app's proxy from a release: [deploy] drain_timeout,
// request_timeout and sticky, and [edge] (basic-auth users from the secrets file). When the
// access rules cannot be read, the options it returns with the error let nobody in.
func proxyOptions(m *release.Manifest) (proxy.Options, error) {
	o := proxy.Options{DrainTimeout: 30 * time.Second, RequestTimeout: 60 * time.Second}
	if m == nil {
		return o, nil
	}
	p := &m.Plan
	o.DrainTimeout = dur(p.Deploy.DrainTimeout, o.DrainTimeout)
	o.RequestTimeout = dur(p.Deploy.RequestTimeout, o.RequestTimeout)
	if p.Deploy.Sticky {
		o.StickyCookie = StickyCookie
	}
	if e := p.Edge; e != nil {
		o.Access = proxy.Access{Hosts: e.Hosts, Allow: e.Allow, RateLimit: e.RateLimit}
		if e.BasicAuth != "" {
			users, err := basicAuthUsers(m.SecretsFile, e.BasicAuth)
			if err != nil {
				o.Access = proxy.Access{Closed: true}
				return o, err
			}
			o.Access.Users = users
		}
	}
	return o, nil
}

// edgeApp is how the release asks to be served on the shared edge: nil when it names no
// host (it keeps its own port).
func edgeApp(m *release.Manifest) *proxy.EdgeApp {
	if m == nil || m.Plan.Edge == nil || len(m.Plan.Edge.Hosts) == 0 {
		return nil
	}
	e := m.Plan.Edge
	return &proxy.EdgeApp{Hosts: slices.Clone(e.Hosts), TLS: e.TLS, ACMEEmail: e.ACMEEmail, ACMEDirectory: e.ACMEDirectory,
		CertFile: homePath(e.CertFile), KeyFile: homePath(e.KeyFile), HSTS: e.HSTS}
}

// homePath expands a leading ~/ to the agent's user's home folder.
func homePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// basicAuthUsers reads the htpasswd entries of the secrets-file variable name.
func basicAuthUsers(file, name string) (map[string]string, error) {
	if file == "" {
		return nil, fmt.Errorf("[edge] basic_auth names %s, but the app has no [secrets] file to read it from", name)
	}
	sec, err := release.ReadSecrets(file)
	if err != nil {
		return nil, err
	}
	v, ok := sec[name]
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("[edge] basic_auth names %s, which the secrets file %s does not set; add %s=USER:BCRYPT-HASH (`htpasswd -nbB USER PASSWORD`)", name, file, name)
	}
	users, err := proxy.ParseUsers(v)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the secrets file %s ([edge] basic_auth): %w", name, file, err)
	}
	return users, nil
}

// StickyCookie is the cookie that pins a client to a release when [deploy] sticky is set.
const StickyCookie = "pyship_release"

func dur(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	return def
}

// Stop implements rollout.Target: out of the proxy, drained, then the process group ends.
func (rt *app) Stop(ctx context.Context, ids []string) error {
	for _, id := range ids {
		rt.proxy.RemoveBackend(ctx, id)
		if err := rt.sup.Stop(ctx, id); err != nil {
			return err
		}
		rt.mu.Lock()
		rt.st.Replicas = slices.DeleteFunc(rt.st.Replicas, func(r ReplicaRecord) bool { return r.ID == id })
		rt.mu.Unlock()
		if err := rt.save(); err != nil {
			return err
		}
		rt.forgetRun(id)
	}
	return nil
}

// SetWeights implements rollout.Target.
func (rt *app) SetWeights(_ context.Context, w map[string]int) error {
	if err := rt.proxy.SetWeights(w); err != nil {
		return err
	}
	rt.mu.Lock()
	rt.st.Weights = w
	rt.mu.Unlock()
	return rt.save()
}

// Weights implements rollout.Target.
func (rt *app) Weights(context.Context) (map[string]int, error) { return rt.proxy.Weights(), nil }

// Metrics implements rollout.Target.
func (rt *app) Metrics(_ context.Context, rel string) (rollout.Metrics, error) {
	if m, err := rt.manifest(rel); err == nil && m.Plan.Run.Kind == "worker" {
		// A worker serves no requests: its canary is judged on health and time.
		return rollout.Metrics{}, fmt.Errorf("%w: %s is a worker, it serves no requests", rollout.ErrNoMetrics, rel)
	}
	return rt.proxy.Metrics(rel)
}

// redact replaces the values of the app's secrets in text (diagnoses quote app logs).
func (rt *app) redact(text string) string {
	rt.mu.Lock()
	var files []string
	for _, m := range rt.manifests {
		if m.SecretsFile != "" {
			files = append(files, m.SecretsFile)
		}
	}
	rt.mu.Unlock()
	for _, f := range files {
		sec, _ := release.ReadSecrets(f)
		for _, v := range sec {
			if len(v) >= 4 {
				text = strings.ReplaceAll(text, v, "[secret]")
			}
		}
	}
	return text
}
