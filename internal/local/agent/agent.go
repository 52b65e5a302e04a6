package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
)

// Agent runs the apps of one state root. Run it with Run; talk to it with a Client.
type Agent struct {
	// Home is the state root ($PYSHIP_HOME).
	Home string
	// AdminAddr is where /metrics is served (default 127.0.0.1:9180; ":0" style picks a port).
	AdminAddr string
	// BindHost is the address the apps' public ports listen on (default all interfaces).
	BindHost string
	// PATH is the search path replicas get after their venv's bin (default the agent's).
	PATH string
	// Getenv reads the agent's environment for what replicas inherit of it (PATH, HOME);
	// os.Getenv when nil. pyship agent passes the command's environment.
	Getenv func(string) string
	// ProxyCommand starts an app's proxy process (default: this executable's `agent proxy`);
	// the agent adds --control SOCKET and passes the public listener as file descriptor 3.
	ProxyCommand []string
	Log          *slog.Logger
	// Clock is the agent's one time source: rollouts, status, history and backup schedules
	// (default the wall clock).
	Clock clock.Clock
	// Keep is how many promoted releases of each app stay for rollback when the release's
	// plan does not say ([deploy] keep_releases; default 5).
	Keep int
	// HTTPPort and HTTPSPort are the shared edge's ports, serving the apps that name hosts
	// ([edge] hosts) by Host and SNI (default 80 and 443).
	HTTPPort, HTTPSPort int
	// ACMERootCA, when set, is a PEM file of the CAs trusted for ACME directories' HTTPS (a
	// private ACME server; tests use Pebble's).
	ACMERootCA string
	// MonitorPrometheus returns the URL of the Prometheus canary checks ask when a release's
	// plan names no prometheus_url ("" for none; default: the one `pyship monitor up` runs).
	MonitorPrometheus func() string

	// HistoryStep is how often the status page's history samples each app's traffic (default
	// 5 s; it keeps 720 points, an hour at the default).
	HistoryStep time.Duration

	// MonitorFiles writes the configuration of the Prometheus and Alertmanager that `pyship
	// monitor up` runs (default StackFiles: the apps' SLO rules and alerts, each app's
	// alerts to its webhook, a scrape of the agent's /metrics).
	MonitorFiles MonitorFiles
	// LocalMonitor is the stack a deploy whose plan sets [monitor] local starts when none
	// runs: its addresses (default those of monitor up) and binaries (default found on PATH).
	LocalMonitor MonitorConfig

	// backupSlot lets one backup run at a time in the agent, bounding its memory.
	backupSlot chan struct{}

	ctx       context.Context
	mu        sync.Mutex
	apps      map[string]*app
	edge      *router // the shared edge's process, once an app names hosts
	adminAddr string
	monitor   monitorStack
}

func (a *Agent) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

func (a *Agent) paths() release.Paths { return release.Paths{Home: a.Home} }

func (a *Agent) historyStep() time.Duration {
	if a.HistoryStep > 0 {
		return a.HistoryStep
	}
	return defaultHistoryStep
}

func (a *Agent) bindHost() string { return a.BindHost }

func (a *Agent) httpPort() int {
	if a.HTTPPort > 0 {
		return a.HTTPPort
	}
	return 80
}

func (a *Agent) httpsPort() int {
	if a.HTTPSPort > 0 {
		return a.HTTPSPort
	}
	return 443
}

func (a *Agent) proxyCommand() []string {
	if len(a.ProxyCommand) > 0 {
		return a.ProxyCommand
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe, "agent", "proxy"}
}

func (a *Agent) basePath() string {
	if a.PATH != "" {
		return a.PATH
	}
	return a.getenv("PATH")
}

func (a *Agent) getenv(k string) string {
	if a.Getenv == nil {
		return os.Getenv(k)
	}
	return a.Getenv(k)
}

// SocketPath is the agent's unix socket under home.
func SocketPath(home string) string { return filepath.Join(home, "agent.sock") }

// Run takes the apps of Home back (adopting running replicas, restarting missing ones, ending
// orphans, rolling back deploys a crash interrupted), then serves the CLI on the unix socket
// until ctx ends. Replicas keep running after Run returns, for the next agent to adopt.
func (a *Agent) Run(ctx context.Context) error {
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	if a.Keep <= 0 {
		a.Keep = plan.DefaultKeepReleases
	}
	a.ctx = ctx
	a.apps = map[string]*app{}
	a.backupSlot = make(chan struct{}, 1)
	if err := os.MkdirAll(a.Home, 0o755); err != nil {
		return fmt.Errorf("creating the pyship home %s: %w", a.Home, err)
	}
	lock, err := os.OpenFile(filepath.Join(a.Home, "agent.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("another pyship agent already runs for %s (see %s)", a.Home, SocketPath(a.Home))
	}
	pidFile := filepath.Join(a.Home, "agent.pid")
	if err := release.WriteAtomic(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	sock := SocketPath(a.Home)
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", sock, err)
	}
	defer os.Remove(sock)
	if err := os.Chmod(sock, 0o600); err != nil {
		return err
	}
	admin, err := a.listenAdmin()
	if err != nil {
		ln.Close()
		return err
	}
	a.recoverApps(ctx)
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	adminSrv := &http.Server{Handler: a.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go adminSrv.Serve(admin)
	go a.housekeep(ctx)
	go a.resumeMonitor(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log().Info("agent ready", "home", a.Home, "socket", sock, "admin", a.adminAddr)
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = adminSrv.Shutdown(sctx)
	a.stopMonitor()
	a.mu.Lock()
	apps := a.apps
	a.mu.Unlock()
	for _, rt := range apps {
		rt.stopSchedule()
		rt.sup.Release()
		rt.proxy.release()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *Agent) listenAdmin() (net.Listener, error) {
	addr := a.AdminAddr
	if addr == "" {
		addr = "127.0.0.1:9180"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for /metrics on %s: %w (choose another with --admin-addr)", addr, err)
	}
	a.adminAddr = ln.Addr().String()
	return ln, nil
}

// recoverApps loads every app's state and converges it.
func (a *Agent) recoverApps(ctx context.Context) {
	marked := map[string]int{}
	for pid, id := range supervise.Marked(a.Home) {
		marked[id] = pid
	}
	known := map[string]bool{}
	ents, _ := os.ReadDir(filepath.Join(a.Home, "apps"))
	for _, e := range ents {
		st, err := loadState(a.paths(), e.Name())
		if err != nil {
			a.log().Error("cannot recover app", "app", e.Name(), "err", err)
			continue
		}
		if _, err := os.Stat(stateFile(a.paths(), e.Name())); err != nil {
			continue
		}
		if st.Stable != "" {
			// Homes from before promotions were recorded: the stable release was promoted.
			_ = release.MarkPromoted(a.paths(), st.App, st.Stable)
		}
		rt := a.newApp(st, a.proxyManifest(st))
		a.mu.Lock()
		a.apps[st.App] = rt
		a.mu.Unlock()
		for _, rec := range st.Replicas {
			known[rec.ID] = true
		}
		if st.Stopped || len(st.Replicas) == 0 {
			rt.proxy.endStray() // the agent died while stopping the app
			continue
		}
		// The weights first: a proxy process still running since the last agent gets them
		// as it is adopted, and keeps serving its backends meanwhile.
		if err := rt.proxy.SetWeights(st.Weights); err != nil {
			a.log().Error("restoring weights", "app", st.App, "err", err)
		}
		if err := rt.serve(st.Port); err != nil {
			a.log().Error("cannot serve app", "app", st.App, "err", err)
		}
		for _, rec := range st.Replicas {
			m, err := rt.manifest(rec.Release)
			if err != nil {
				a.log().Error("replica of a missing release", "replica", rec.ID, "err", err)
				continue
			}
			pid := marked[rec.ID]
			start, _ := supervise.ProcStart(pid)
			if err := rt.launch(ctx, m, rec, pid, start); err != nil {
				a.log().Error("cannot restart replica", "replica", rec.ID, "err", err)
			} else {
				a.log().Info("replica recovered", "replica", rec.ID, "adopted", pid > 0)
			}
		}
		if m, err := rt.manifest(st.Stable); st.Stable != "" && err == nil {
			rt.startSchedule(m)
		}
		if st.Deploy != nil && !st.Deploy.Terminal() {
			d := *st.Deploy
			if d.Phase == rollout.Progressing {
				d.Phase, d.Message = rollout.RollingBack, "the deploy was interrupted (agent restarted); rolling back to "+d.Spec.Stable
			}
			rt.recovering.Store(true)
			rt.deploying.Lock()
			go func() {
				defer rt.deploying.Unlock()
				defer rt.recovering.Store(false)
				final, err := rt.rollout(ctx, d, nil)
				if err != nil && ctx.Err() != nil {
					return // shutting down again: the next agent finishes it
				}
				if err != nil {
					a.log().Error("finishing the interrupted deploy", "app", rt.name, "err", err)
				}
				m, merr := rt.manifest(d.Spec.Release)
				if merr != nil {
					a.log().Error("notifying the end of the interrupted deploy", "app", rt.name, "err", merr)
					return
				}
				if werr := a.notify(m, final, false, err); werr != nil {
					a.log().Warn("notifying the end of the interrupted deploy", "app", rt.name, "err", werr)
				}
			}()
		}
	}
	for id, pid := range marked {
		if !known[id] {
			a.log().Warn("ending orphan replica", "replica", id, "pid", pid)
			supervise.KillGroup(pid)
		}
	}
}

// proxyPlan is the plan of the app's latest deploy, which its proxy is configured from (nil
// when it cannot be read: the proxy then runs with its defaults).
// proxyManifest is the release whose proxy options apply after a restart: the one being
// deployed, else the stable one (whose access rules must hold from the first request).
func (a *Agent) proxyManifest(st *AppState) *release.Manifest {
	for _, id := range []string{deployingRelease(st), st.Stable} {
		if id == "" {
			continue
		}
		if m, err := release.Load(a.paths(), st.App, id); err == nil {
			return m
		}
	}
	return nil
}

func deployingRelease(st *AppState) string {
	if st.Deploy == nil {
		return ""
	}
	return st.Deploy.Spec.Release
}

func (a *Agent) app(name string) *app {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apps[name]
}

func (a *Agent) appNames() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	for n := range a.apps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// housekeep retires warm sets whose rollback window passed, samples request rates and
// prunes old releases.
func (a *Agent) housekeep(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, n := range a.appNames() {
			rt := a.app(n)
			rt.proxy.check()
			if cum, err := rt.cumulative(); err == nil {
				now := a.Clock.Now()
				rt.samples.add(cum, now)
				if rt.history.due(now) {
					rt.history.add(now, cum)
				}
			}
			if !rt.deploying.TryLock() {
				continue
			}
			rt.mu.Lock()
			var st *rollout.Status
			if rt.st.Deploy != nil && rt.st.Deploy.Terminal() {
				cp := *rt.st.Deploy
				st = &cp
			}
			rt.mu.Unlock()
			if st != nil {
				e := rt.engine(nil)
				if _, d, err := e.Step(ctx, *st); err != nil {
					a.log().Error("housekeeping", "app", n, "err", err)
				} else if d.Action == rollout.Stop {
					a.log().Info("retired replicas", "app", n, "replicas", d.IDs, "why", d.Reason)
				}
			}
			rt.deploying.Unlock()
		}
	}
}
