package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
)

// router is an app's side of its proxy process: the routing the agent wants (options,
// weights, ready backends) and the process serving the public port with it. The process
// outlives the agent: a restarted agent adopts it, and in between requests keep flowing on
// the last routing table it was given.
type router struct {
	a   *Agent
	app string
	log *slog.Logger

	mu       sync.Mutex
	opts     proxy.ControlOptions
	weights  map[string]int
	backends map[string]backendAddr
	port     int // 0: not serving; for an app on the shared edge, the edge's HTTP port
	client   *proxy.Client
	pid      int
	lns      []*os.File // this agent's copy of the public listeners, to restart a process that died
	exited   chan struct{}

	// The process: its control socket, pid file, log, the ports it listens on (fd 3, 4...)
	// and the arguments it gets after `--control SOCKET`.
	sock, pidFile, logFile string
	ports                  []int
	args                   []string
	isEdge                 bool // the shared edge's process, serving the apps that name hosts

	// want is how the app asks to be served on the shared edge (nil: on its own port);
	// hosted is the edge's router while it is, and base the client of the app's own process.
	want   *proxy.EdgeApp
	hosted *router
	base   *proxy.Client
	// unanswered counts the checks in a row a running proxy process did not answer; launched
	// is when the last one was started (restarts wait a moment after a failed start).
	unanswered int
	launched   time.Time
}

// hungChecks is how many checks in a row (one a second) a proxy process that still runs may
// leave unanswered before it is replaced: a busy machine is no dead proxy.
const hungChecks = 10

type backendAddr struct{ release, addr string }

func newRouter(a *Agent, app string, log *slog.Logger, o proxy.Options) *router {
	sock := proxySocket(a.paths(), app)
	r := &router{a: a, app: app, log: log, weights: map[string]int{}, backends: map[string]backendAddr{},
		client: proxy.NewClient(sock), sock: sock, pidFile: proxyPIDFile(a.paths(), app),
		logFile: filepath.Join(a.paths().App(app), "proxy.log")}
	r.base = r.client
	r.opts = controlOptions(o)
	return r
}

func controlOptions(o proxy.Options) proxy.ControlOptions {
	return proxy.ControlOptions{RequestTimeout: o.RequestTimeout, DrainTimeout: o.DrainTimeout, StickyCookie: o.StickyCookie, Access: o.Access}
}

func proxySocket(p release.Paths, app string) string { return filepath.Join(p.App(app), "proxy.sock") }
func proxyPIDFile(p release.Paths, app string) string {
	return filepath.Join(p.App(app), "proxy.pid")
}

// serving returns the client of the process serving the app, or nil.
func (r *router) serving() *proxy.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.port == 0 {
		return nil
	}
	return r.client
}

func (r *router) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.a.ctx, 10*time.Second)
}

// Reconfigure sets the proxy's timeouts, stickiness and access rules.
func (r *router) Reconfigure(o proxy.Options) {
	r.mu.Lock()
	r.opts = controlOptions(o)
	port, cl := r.port, r.client
	r.mu.Unlock()
	if port != 0 {
		ctx, cancel := r.ctx()
		defer cancel()
		if err := cl.Reconfigure(ctx, r.opts); err != nil {
			r.log.Error("configuring the proxy", "err", err)
		}
	}
}

// AddBackend routes release's traffic to addr under the replica id.
func (r *router) AddBackend(id, rel, addr string) {
	r.mu.Lock()
	r.backends[id] = backendAddr{rel, addr}
	port, cl := r.port, r.client
	r.mu.Unlock()
	if port != 0 {
		ctx, cancel := r.ctx()
		defer cancel()
		if err := cl.AddBackend(ctx, id, rel, addr); err != nil {
			r.log.Error("adding a backend to the proxy", "replica", id, "err", err)
		}
	}
}

// RemoveBackend stops routing to id and waits until its in-flight requests are done (at most
// the drain timeout).
func (r *router) RemoveBackend(ctx context.Context, id string) {
	r.mu.Lock()
	delete(r.backends, id)
	port, drain, cl := r.port, r.opts.DrainTimeout, r.client
	r.mu.Unlock()
	if port == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, drain+5*time.Second)
	defer cancel()
	if _, err := cl.RemoveBackend(ctx, id); err != nil {
		r.log.Error("removing a backend from the proxy", "replica", id, "err", err)
	}
}

// SetWeights replaces the traffic percentages.
func (r *router) SetWeights(w map[string]int) error {
	if err := proxy.CheckWeights(w); err != nil {
		return err
	}
	r.mu.Lock()
	r.weights = maps.Clone(w)
	port, cl := r.port, r.client
	r.mu.Unlock()
	if port == 0 {
		return nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	return cl.SetWeights(ctx, w)
}

// Weights returns the traffic percentages set last.
func (r *router) Weights() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.weights)
}

// Metrics returns the cumulative request metrics of rel (none when nothing is served).
func (r *router) Metrics(rel string) (rollout.Metrics, error) {
	cl := r.serving()
	if cl == nil {
		return rollout.Metrics{}, nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	return cl.Metrics(ctx, rel)
}

// WriteMetrics copies the proxy's Prometheus metrics to w.
func (r *router) WriteMetrics(w io.Writer, labels string) error {
	cl := r.serving()
	if cl == nil {
		return nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	return cl.WriteMetrics(ctx, w, labels)
}

// serve makes sure a proxy process serves the app on port: the running one (adopted after a
// restart of the agent) or a new one.
func (r *router) serve(port int, known map[string]bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.want != nil {
		return r.serveHosted(known)
	}
	if r.hosted != nil {
		return fmt.Errorf("%s is served on the shared edge; this release names no host and asks for port %d: stop it first (pyship stop) to move it", r.app, port)
	}
	if r.port != 0 && r.port == port {
		return nil
	}
	if r.port != 0 {
		return fmt.Errorf("%s is served on port %d; this release asks for port %d: stop it first (pyship stop) to change the port", r.app, r.port, port)
	}
	answered, err := r.adopt(known)
	if err == nil {
		r.port = port
		r.log.Info("proxy process adopted", "pid", r.pid, "port", port)
		return nil
	}
	if answered {
		// pyship's own proxy holds the port: listening again would only say "in use". The
		// housekeeping checks it from now on (and replaces it if it stays unanswering).
		r.port = port
		return fmt.Errorf("the proxy process of %s (pid %d) holds port %d but could not be given its routing: %w; run pyship deploy again, or pyship stop", r.app, r.pid, port, err)
	}
	r.ports = []int{port}
	if err := r.listen(); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			if other := r.a.appOnPort(port, r.app); other != "" {
				return fmt.Errorf("port %d is the public port of the pyship app %s: change [run] port of %s, or stop %s first (pyship stop --app %s)", port, other, r.app, other, other)
			}
			return fmt.Errorf("port %d is already in use by another program: stop it, or change [run] port", port)
		}
		return err
	}
	if err := r.launch(); err != nil {
		r.closeListeners()
		return err
	}
	r.port = port
	return nil
}

// listen opens the public listeners of r.ports (this agent's copies); r.mu is held.
func (r *router) listen() error {
	r.closeListeners()
	for _, port := range r.ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(r.a.bindHost(), strconv.Itoa(port)))
		if err != nil {
			r.closeListeners()
			return fmt.Errorf("listening on port %d: %w", port, err)
		}
		f, err := ln.(*net.TCPListener).File()
		ln.Close()
		if err != nil {
			r.closeListeners()
			return fmt.Errorf("listening on port %d: %w", port, err)
		}
		r.lns = append(r.lns, f)
	}
	return nil
}

func (r *router) closeListeners() {
	for _, f := range r.lns {
		f.Close()
	}
	r.lns = nil
}

// serveHosted serves the app on the shared edge by r.want, starting or adopting the edge
// process first; r.mu is held.
func (r *router) serveHosted(known map[string]bool) error {
	if r.port != 0 && r.hosted == nil {
		return fmt.Errorf("%s is served on its own port %d; this release names hosts for the shared edge: stop it first (pyship stop) to move it", r.app, r.port)
	}
	edge := r.a.edgeRouter()
	ctx, cancel := r.ctx()
	defer cancel()
	cl := edge.client.App(r.app)
	// Under the edge's lock, so an app leaving at the same time cannot stop the edge as idle
	// between its start and this app's arrival.
	edge.mu.Lock()
	err := edge.ensure()
	if err == nil {
		err = cl.SetEdge(ctx, *r.want)
	}
	edge.mu.Unlock()
	if err != nil {
		if r.hosted == nil {
			edge.stopIfIdle(ctx) // started for this app alone
		}
		return fmt.Errorf("serving %s on the shared edge: %w", r.app, err)
	}
	if r.hosted == nil && r.port == 0 {
		// A proxy process of the app's own port still running (its release named no hosts
		// before the agent restarted): the app is on the edge now, so let it drain and exit.
		if st, err := r.base.State(ctx); err == nil {
			r.log.Warn("the app now names hosts: ending the proxy process of its own port", "pid", st.PID)
			_ = r.base.Shutdown(ctx)
			_ = os.Remove(r.pidFile)
		}
	}
	r.hosted, r.client = edge, cl
	r.port = edge.ports[0]
	if _, err := r.adopt(known); err != nil {
		return fmt.Errorf("configuring %s on the shared edge: %w", r.app, err)
	}
	return nil
}

// publicURL is where clients reach the app: its first host name on the shared edge, or port
// on the agent's bind address.
func (r *router) publicURL(port int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosted == nil || r.want == nil {
		return "http://" + displayHost(r.a.BindHost) + ":" + strconv.Itoa(port) + "/"
	}
	scheme, p, def := "http", r.a.httpPort(), 80
	if r.want.TLS != proxy.TLSNone {
		scheme, p, def = "https", r.a.httpsPort(), 443
	}
	u := scheme + "://" + r.want.Hosts[0]
	if p != def {
		u += ":" + strconv.Itoa(p)
	}
	return u + "/"
}

// setEdge sets how the app asks to be served on the shared edge (nil: on its own port); it
// takes effect at the next serve.
func (r *router) setEdge(want *proxy.EdgeApp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = want
}

// ensure makes sure the shared edge process serves its ports (the running one or a new
// one); r.mu is held.
func (r *router) ensure() error {
	if r.port != 0 {
		return nil
	}
	if answered, err := r.adopt(nil); err == nil {
		r.port = r.ports[0]
		r.log.Info("edge process adopted", "pid", r.pid)
		return nil
	} else if answered {
		return fmt.Errorf("the shared edge process (pid %d) answers on %s but not as expected: %w", r.pid, r.sock, err)
	}
	if err := r.listen(); err != nil {
		return fmt.Errorf("the shared edge (HTTP port %d, HTTPS port %d): %w; free the ports or set other ones (pyship agent --http-port, --https-port)", r.ports[0], r.ports[1], err)
	}
	if err := r.launch(); err != nil {
		r.closeListeners()
		return err
	}
	r.port = r.ports[0]
	return nil
}

// stopIfIdle has the shared edge process drain and exit when it serves no app any more.
func (r *router) stopIfIdle(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.port == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	apps, err := r.client.EdgeApps(cctx)
	cancel()
	if err == nil && len(apps) == 0 {
		r.log.Info("the shared edge serves no app any more; stopping it", "pid", r.pid)
		r.port = 0
		r.shutdown(ctx)
	}
}

// checkHosted checks the shared edge, and gives the app to it again when the edge process
// was replaced; r.mu is held.
func (r *router) checkHosted() {
	r.hosted.check()
	ctx, cancel := context.WithTimeout(r.a.ctx, 2*time.Second)
	defer cancel()
	if _, err := r.client.State(ctx); err == nil {
		return
	}
	if err := r.client.SetEdge(ctx, *r.want); err != nil {
		r.log.Error("serving the app on the shared edge again", "err", err)
		return
	}
	if err := r.push(ctx); err != nil {
		r.log.Error("configuring the app on the shared edge again", "err", err)
	}
}

// adopt takes the app's running proxy process back, giving it the agent's options and weights
// and dropping backends that are no replica the agent knows; r.mu is held. answered tells
// that a proxy process runs there, even when configuring it failed.
func (r *router) adopt(known map[string]bool) (answered bool, err error) {
	ctx, cancel := r.ctx()
	defer cancel()
	st, err := r.client.State(ctx)
	if err != nil {
		return false, err
	}
	r.pid = st.PID
	r.exited = nil
	for _, ids := range st.Backends {
		for _, id := range ids {
			if !known[id] {
				_, _ = r.client.RemoveBackend(ctx, id)
			}
		}
	}
	return true, r.push(ctx)
}

// push gives the process the whole routing table the agent wants; r.mu is held.
func (r *router) push(ctx context.Context) error {
	if r.isEdge {
		return nil // the edge itself has no routing; each app's is pushed by the app
	}
	if err := r.client.Reconfigure(ctx, r.opts); err != nil {
		return err
	}
	for id, b := range r.backends {
		if err := r.client.AddBackend(ctx, id, b.release, b.addr); err != nil {
			return err
		}
	}
	if len(r.weights) > 0 {
		return r.client.SetWeights(ctx, r.weights)
	}
	return nil
}

// launch starts a proxy process on r.ln, waits until it answers and gives it the routing
// table; r.mu is held.
func (r *router) launch() error {
	r.launched = time.Now()
	r.killStale()
	sock := r.sock
	logf, err := os.OpenFile(r.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	argv := r.a.proxyCommand()
	cmd := exec.Command(argv[0], append(append(argv[1:], "--control", sock), r.args...)...)
	cmd.ExtraFiles = r.lns
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the proxy process of %s (%s): %w", r.app, strings.Join(argv, " "), err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
		r.check()
	}()
	r.pid, r.exited = cmd.Process.Pid, exited
	_ = release.WriteAtomic(r.pidFile, []byte(strconv.Itoa(r.pid)+"\n"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(r.a.ctx, time.Second)
		_, err := r.client.State(ctx)
		if err == nil {
			err = r.push(ctx)
			cancel()
			if err != nil {
				return fmt.Errorf("configuring the proxy process of %s: %w", r.app, err)
			}
			r.log.Info("proxy process started", "pid", r.pid)
			return nil
		}
		cancel()
		select {
		case <-exited:
			return fmt.Errorf("the proxy process of %s exited at start; see %s", r.app, logf.Name())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(r.pid, syscall.SIGKILL)
			return fmt.Errorf("the proxy process of %s does not answer on %s; see %s", r.app, sock, logf.Name())
		}
	}
}

// killStale ends a proxy process of the app that no longer answers its control socket.
func (r *router) killStale() {
	b, err := os.ReadFile(r.pidFile)
	if err != nil {
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid > 0 && pid != r.pid && isProxy(pid, r.sock) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// isProxy tells whether pid runs the proxy process controlled on sock (not an unrelated
// process that reused the pid).
func isProxy(pid int, sock string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), "\x00--control\x00"+sock)
}

// check restarts the proxy process when it is gone while the app should be served.
func (r *router) check() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.port == 0 || r.a.ctx.Err() != nil {
		return
	}
	if r.hosted != nil {
		r.checkHosted()
		return
	}
	ctx, cancel := context.WithTimeout(r.a.ctx, 2*time.Second)
	_, err := r.client.State(ctx)
	cancel()
	if err == nil {
		r.unanswered = 0
		return
	}
	if r.pid > 0 && processRunning(r.pid, r.exited) {
		// Alive but slow: a second process on the same socket would leave this one serving
		// an old table, unmanaged. Only a process that stays unanswering is replaced.
		if r.unanswered++; r.unanswered < hungChecks {
			return
		}
		r.log.Warn("the proxy process does not answer; replacing it", "pid", r.pid, "err", err)
		_ = syscall.Kill(r.pid, syscall.SIGKILL)
		if r.exited != nil {
			select {
			case <-r.exited:
			case <-time.After(5 * time.Second):
			}
		}
	}
	r.unanswered = 0
	if time.Since(r.launched) < 2*time.Second {
		return // it died right after its start: try again at a later check, not in a loop
	}
	r.log.Warn("the proxy process is gone; starting another", "pid", r.pid, "err", err)
	if r.lns == nil {
		if err := r.listen(); err != nil {
			r.log.Error("listening again on the public port", "port", r.ports, "err", err)
			return
		}
	}
	if err := r.launch(); err != nil {
		r.log.Error("restarting the proxy process", "err", err)
	}
}

// stop lets the proxy process drain its in-flight requests and exit, and frees the port.
func (r *router) stop(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.port == 0 {
		return
	}
	r.port = 0
	r.shutdown(ctx)
}

// shutdown has the proxy process r.pid drain and exit, and frees the port; r.mu is held.
func (r *router) shutdown(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = r.client.Shutdown(sctx)
	cancel()
	if r.hosted != nil {
		// The app leaves the shared edge, whose process goes on serving the others, or ends
		// with the last of them.
		r.hosted.stopIfIdle(ctx)
		r.hosted, r.client, r.pid, r.exited = nil, r.base, 0, nil
		return
	}
	deadline := time.Now().Add(r.opts.DrainTimeout + 5*time.Second)
	for r.pid > 0 && processRunning(r.pid, r.exited) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(r.pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.closeListeners()
	_ = os.Remove(r.pidFile)
	r.pid, r.exited = 0, nil
}

// processRunning tells whether the proxy process pid still runs: for a child of this agent,
// until it is reaped; for an adopted one, while it is not a zombie.
func processRunning(pid int, exited chan struct{}) bool {
	if exited != nil {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// endStray lets a proxy process still running for an app that is not served drain and exit.
func (r *router) endStray() {
	ctx, cancel := r.ctx()
	defer cancel()
	r.mu.Lock()
	hosted := r.want != nil
	r.mu.Unlock()
	if hosted {
		// On the shared edge: take the app off it, and end the edge if nothing else is on it.
		edge := r.a.edgeRouter()
		cl := edge.client.App(r.app)
		if _, err := cl.State(ctx); err != nil {
			return
		}
		r.log.Warn("removing an app that is not served from the shared edge")
		_ = cl.Shutdown(ctx)
		edge.mu.Lock()
		err := edge.ensure() // adopts the running edge process
		edge.mu.Unlock()
		if err == nil {
			edge.stopIfIdle(ctx)
		}
		return
	}
	st, err := r.client.State(ctx)
	if err != nil {
		return
	}
	r.log.Warn("ending the proxy process of an app that is not served", "pid", st.PID)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pid, r.exited = st.PID, nil
	r.shutdown(ctx)
}

// release forgets the proxy process without stopping it (the agent is shutting down; the next
// one adopts it).
func (r *router) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.port = 0
	r.hosted, r.client = nil, r.base
	r.closeListeners()
}

// appOnPort is the app other than except whose proxy serves port, or "".
func (a *Agent) appOnPort(port int, except string) string {
	a.mu.Lock()
	apps := make(map[string]*app, len(a.apps))
	maps.Copy(apps, a.apps)
	a.mu.Unlock()
	for name, rt := range apps {
		if name == except {
			continue
		}
		// TryLock: the caller holds its own router's lock, and two routers asking about each
		// other must not wait on each other; a busy router is simply not named.
		if !rt.proxy.mu.TryLock() {
			continue
		}
		p := rt.proxy.port
		rt.proxy.mu.Unlock()
		if p == port {
			return name
		}
	}
	return ""
}

// edgeRouter is the router of the shared edge process (made on first use), which serves the
// apps that name hosts on the agent's HTTP and HTTPS ports.
func (a *Agent) edgeRouter() *router {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.edge != nil {
		return a.edge
	}
	dir := filepath.Join(a.Home, "edge")
	_ = os.MkdirAll(dir, 0o755)
	sock := filepath.Join(dir, "proxy.sock")
	r := &router{a: a, app: "the shared edge", log: a.log().With("edge", "shared"), weights: map[string]int{},
		backends: map[string]backendAddr{}, client: proxy.NewClient(sock), sock: sock,
		pidFile: filepath.Join(dir, "proxy.pid"), logFile: filepath.Join(dir, "proxy.log"),
		ports: []int{a.httpPort(), a.httpsPort()}, isEdge: true,
		args: []string{"--edge", "--acme-cache", filepath.Join(dir, "acme")}}
	if a.ACMERootCA != "" {
		r.args = append(r.args, "--acme-ca", a.ACMERootCA)
	}
	r.base = r.client
	a.edge = r
	return r
}
