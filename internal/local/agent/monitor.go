package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/plan"
)

// MonitorConfig is how `pyship monitor up` runs Prometheus and Alertmanager under the agent.
type MonitorConfig struct {
	// PrometheusAddr and AlertmanagerAddr are their listen addresses (default
	// 127.0.0.1:9090 and 127.0.0.1:9093).
	PrometheusAddr   string `json:"prometheusAddr"`
	AlertmanagerAddr string `json:"alertmanagerAddr"`
	// Prometheus and Alertmanager are the binaries (absolute paths; MonitorBinaries finds them).
	Prometheus   string `json:"prometheus"`
	Alertmanager string `json:"alertmanager"`
}

// Default listen addresses of the monitoring stack.
const (
	DefaultPrometheusAddr   = "127.0.0.1:9090"
	DefaultAlertmanagerAddr = "127.0.0.1:9093"
)

// MonitorInstallHint says how to get the binaries `pyship monitor up` runs.
const MonitorInstallHint = "install them: on Debian and Ubuntu `apt-get install prometheus prometheus-alertmanager`; " +
	"elsewhere the release tarballs of https://prometheus.io/download/ (prometheus and alertmanager), with both binaries on PATH"

// MonitorBinaries finds prometheus and Alertmanager (Debian names it prometheus-alertmanager)
// on the search path path, or says how to install them.
func MonitorBinaries(path string) (prom, am string, err error) {
	find := func(names ...string) string {
		for _, dir := range filepath.SplitList(path) {
			for _, n := range names {
				p := filepath.Join(dir, n)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return p
				}
			}
		}
		return ""
	}
	prom, am = find("prometheus"), find("alertmanager", "prometheus-alertmanager")
	var missing []string
	if prom == "" {
		missing = append(missing, "prometheus")
	}
	if am == "" {
		missing = append(missing, "alertmanager (or prometheus-alertmanager)")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%s not found on PATH: %s", strings.Join(missing, " and "), MonitorInstallHint)
	}
	return prom, am, nil
}

func (c MonitorConfig) withDefaults() MonitorConfig {
	if c.PrometheusAddr == "" {
		c.PrometheusAddr = DefaultPrometheusAddr
	}
	if c.AlertmanagerAddr == "" {
		c.AlertmanagerAddr = DefaultAlertmanagerAddr
	}
	return c
}

func (c MonitorConfig) validate() error {
	for _, f := range []struct{ flag, addr string }{{"--prometheus-addr", c.PrometheusAddr}, {"--alertmanager-addr", c.AlertmanagerAddr}} {
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			return fmt.Errorf("%s %q is not host:port: %w", f.flag, f.addr, err)
		}
	}
	if c.PrometheusAddr == c.AlertmanagerAddr {
		return fmt.Errorf("--prometheus-addr and --alertmanager-addr are both %s: give them different ports", c.PrometheusAddr)
	}
	for _, b := range []struct{ what, path string }{{"prometheus", c.Prometheus}, {"alertmanager", c.Alertmanager}} {
		if !filepath.IsAbs(b.path) {
			return fmt.Errorf("the %s binary %q is not an absolute path", b.what, b.path)
		}
		if _, err := os.Stat(b.path); err != nil {
			return fmt.Errorf("the %s binary: %w; %s", b.what, err, MonitorInstallHint)
		}
	}
	return nil
}

// MonitorInput is what the configuration of the stack is generated from.
type MonitorInput struct {
	// Dir is where the files go: prometheus.yml and alertmanager.yml, and rule files in
	// rules/ (Prometheus loads rules/*.yml).
	Dir string
	// Admin is the agent's admin address serving /metrics.
	Admin  string
	Config MonitorConfig
	// Plans are the plans of the stable release of each app the agent serves, by app name
	// (their [monitor] objectives and [notify] webhook).
	Plans map[string]*plan.Plan
}

// MonitorFiles writes the configuration of the stack. It is the one place the configuration
// comes from: the SLO rules and the Alertmanager routes of internal/monitor plug in here. The
// agent calls it at monitor up and after every deploy that changes a stable release, then has
// Prometheus and Alertmanager reload.
type MonitorFiles func(in MonitorInput) error

// StackFiles is the configuration internal/monitor generates for every app the agent
// serves: their SLO rules, burn-rate and PyshipAppDown alerts (rules.yml), each app's alerts
// routed to its [notify] webhook (alertmanager.yml), and a scrape of the agent's /metrics
// every 5 s (prometheus.yml), which also loads the user's own rule files from rules/*.yml.
func StackFiles(in MonitorInput) error {
	files, err := monitor.StackFiles(in.Plans, monitor.Options{Agent: in.Admin, Alertmanager: in.Config.AlertmanagerAddr,
		Interval: "5s", ExtraRuleFiles: []string{filepath.Join("rules", "*.yml")}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(in.Dir, "rules"), 0o755); err != nil {
		return err
	}
	_, err = monitor.WriteFiles(in.Dir, files)
	return err
}

// monitorStack runs Prometheus and Alertmanager as the agent's supervised children.
type monitorStack struct {
	op       sync.Mutex // one monitor up or down at a time
	mu       sync.Mutex // guards cfg and children
	cfg      MonitorConfig
	children []*child
	// retention is the running Prometheus's --storage.tsdb.retention.time.
	retention time.Duration
}

func (m *monitorStack) running() (MonitorConfig, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg, len(m.children) > 0
}

// prometheusURL is the address of the Prometheus that `pyship monitor up` runs ("" when none
// runs): the default Prometheus of the local target's analyses.
func (a *Agent) prometheusURL() string {
	if cfg, ok := a.monitor.running(); ok {
		return "http://" + cfg.PrometheusAddr
	}
	return ""
}

func (a *Agent) monitorDir() string { return filepath.Join(a.Home, "monitor") }

// minRetention is the least Prometheus keeps: the 15 days of Prometheus's own default.
const minRetention = 15 * 24 * time.Hour

// retentionFor is how long Prometheus keeps samples for plans: the longest [monitor] window,
// over which the rules compute the budget left, and at least minRetention.
func retentionFor(plans map[string]*plan.Plan) time.Duration {
	r := minRetention
	for _, p := range plans {
		if p.Monitor == nil {
			continue
		}
		if w, err := model.ParseDuration(p.Monitor.Window); err == nil {
			r = max(r, time.Duration(w))
		}
	}
	return r
}

// writeMonitorFiles generates the stack's configuration from the apps' stable releases and
// says how long Prometheus must keep samples for them.
func (a *Agent) writeMonitorFiles(cfg MonitorConfig) (time.Duration, error) {
	gen := a.MonitorFiles
	if gen == nil {
		gen = StackFiles
	}
	in := MonitorInput{Dir: a.monitorDir(), Admin: a.adminAddr, Config: cfg, Plans: map[string]*plan.Plan{}}
	for _, n := range a.appNames() {
		rt := a.app(n)
		if rt == nil {
			continue
		}
		rt.mu.Lock()
		stable := rt.st.Stable
		rt.mu.Unlock()
		if m, err := rt.manifest(stable); stable != "" && err == nil {
			in.Plans[n] = &m.Plan
		}
	}
	if err := gen(in); err != nil {
		return 0, fmt.Errorf("writing the monitoring configuration in %s: %w", in.Dir, err)
	}
	return retentionFor(in.Plans), nil
}

// ensureMonitor starts the stack for a deploy whose plan sets [monitor] local, when it does
// not run, with a.LocalMonitor's addresses and the binaries on the agent's PATH; it says why
// it could not ("" when the stack runs).
func (a *Agent) ensureMonitor(ctx context.Context) string {
	a.monitor.op.Lock()
	defer a.monitor.op.Unlock()
	if _, running := a.monitor.running(); running {
		return ""
	}
	cfg := a.LocalMonitor.withDefaults()
	if cfg.Prometheus == "" || cfg.Alertmanager == "" {
		prom, am, err := MonitorBinaries(a.getenv("PATH"))
		if err != nil {
			return "[monitor] local: not starting Prometheus and Alertmanager: " + err.Error()
		}
		cfg.Prometheus, cfg.Alertmanager = cmp.Or(cfg.Prometheus, prom), cmp.Or(cfg.Alertmanager, am)
	}
	err := cfg.validate()
	if err == nil {
		err = a.startMonitor(ctx, cfg)
	}
	if err != nil {
		return "[monitor] local: starting Prometheus and Alertmanager: " + err.Error()
	}
	return ""
}

// refreshMonitor regenerates the configuration of the running stack and has both processes
// reload it (after a deploy changed a stable release). When an app's window now needs a
// longer retention, which Prometheus reads only at start, it restarts the stack.
func (a *Agent) refreshMonitor(ctx context.Context) error {
	a.monitor.op.Lock()
	defer a.monitor.op.Unlock()
	cfg, running := a.monitor.running()
	if !running {
		return nil
	}
	retention, err := a.writeMonitorFiles(cfg)
	if err != nil {
		return err
	}
	a.monitor.mu.Lock()
	longer := retention > a.monitor.retention
	a.monitor.mu.Unlock()
	if longer {
		return a.startMonitor(ctx, cfg)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, addr := range []string{cfg.PrometheusAddr, cfg.AlertmanagerAddr} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/-/reload", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("reloading the configuration of %s: %w", addr, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("reloading the configuration of %s: %s: %s", addr, resp.Status, bytes.TrimSpace(b))
		}
	}
	return nil
}

// monitorUp (re)starts the stack with cfg and waits until both answer /-/ready. The choice
// is saved so that the next agent starts the stack again.
func (a *Agent) monitorUp(ctx context.Context, cfg MonitorConfig) (MonitorConfig, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	a.monitor.op.Lock()
	defer a.monitor.op.Unlock()
	return cfg, a.startMonitor(ctx, cfg)
}

// startMonitor (re)starts the stack; the caller holds a.monitor.op.
func (a *Agent) startMonitor(ctx context.Context, cfg MonitorConfig) error {
	a.stopMonitor()
	dir := a.monitorDir()
	for _, d := range []string{"prometheus-data", "alertmanager-data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	retention, err := a.writeMonitorFiles(cfg)
	if err != nil {
		return err
	}
	specs := []*child{
		{name: "alertmanager", addr: cfg.AlertmanagerAddr, log: filepath.Join(dir, "alertmanager.log"), cmd: []string{cfg.Alertmanager,
			"--config.file=" + filepath.Join(dir, "alertmanager.yml"), "--storage.path=" + filepath.Join(dir, "alertmanager-data"),
			"--web.listen-address=" + cfg.AlertmanagerAddr, "--cluster.listen-address="}},
		{name: "prometheus", addr: cfg.PrometheusAddr, log: filepath.Join(dir, "prometheus.log"), cmd: []string{cfg.Prometheus,
			"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
			"--storage.tsdb.retention.time=" + model.Duration(retention).String(), "--web.listen-address=" + cfg.PrometheusAddr, "--web.enable-lifecycle"}},
	}
	for _, c := range specs {
		c.pidFile = filepath.Join(dir, c.name+".pid")
		c.endStale(dir)
		if err := checkFree(c.addr); err != nil {
			return fmt.Errorf("starting %s: %w (choose another address with --%s-addr)", c.name, err, c.name)
		}
	}
	a.monitor.mu.Lock()
	a.monitor.cfg, a.monitor.retention = cfg, retention
	for _, c := range specs {
		c.start(a)
		a.monitor.children = append(a.monitor.children, c)
	}
	a.monitor.mu.Unlock()
	for _, c := range specs {
		if err := c.waitReady(ctx); err != nil {
			a.stopMonitor()
			return err
		}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err == nil {
		err = release.WriteAtomic(filepath.Join(dir, "monitor.json"), b)
	}
	return err
}

// monitorDown stops the stack and forgets it; it says whether it ran.
func (a *Agent) monitorDown() bool {
	a.monitor.op.Lock()
	defer a.monitor.op.Unlock()
	was := a.stopMonitor()
	_ = os.Remove(filepath.Join(a.monitorDir(), "monitor.json"))
	return was
}

// stopMonitor stops the stack's processes (the saved choice stays, for the next agent).
func (a *Agent) stopMonitor() bool {
	a.monitor.mu.Lock()
	cs := a.monitor.children
	a.monitor.children = nil
	a.monitor.mu.Unlock()
	for _, c := range cs {
		c.stop()
	}
	return len(cs) > 0
}

// resumeMonitor starts the stack a previous agent ran.
func (a *Agent) resumeMonitor(ctx context.Context) {
	b, err := os.ReadFile(filepath.Join(a.monitorDir(), "monitor.json"))
	if err != nil {
		return
	}
	var cfg MonitorConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		a.log().Error("reading the monitoring stack's settings", "err", err)
		return
	}
	if _, err := a.monitorUp(ctx, cfg); err != nil {
		a.log().Error("starting Prometheus and Alertmanager again (pyship monitor up)", "err", err)
	}
}
