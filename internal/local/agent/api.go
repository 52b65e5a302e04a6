package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
)

func itoa(i int) string { return strconv.Itoa(i) }

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/deploy", a.handleDeploy)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		var out []AppStatus
		for _, n := range a.appNames() {
			if q := r.URL.Query().Get("app"); q == "" || q == n {
				out = append(out, a.status(n))
			}
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("POST /v1/apps/{app}/{verb}", a.handleVerb)
	mux.HandleFunc("GET /v1/apps/{app}/logs", a.handleLogs)
	mux.HandleFunc("POST /v1/monitor/up", func(w http.ResponseWriter, r *http.Request) {
		var cfg MonitorConfig
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
			httpError(w, http.StatusBadRequest, fmt.Errorf("decoding the monitor request: %w", err))
			return
		}
		cfg, err := a.monitorUp(r.Context(), cfg)
		if err != nil {
			httpError(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, MonitorRunning{MonitorConfig: cfg, StatusPage: "http://" + a.adminAddr + "/status"})
	})
	mux.HandleFunc("POST /v1/monitor/down", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]bool{"stopped": a.monitorDown()})
	})
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"pid": os.Getpid(), "admin": a.adminAddr})
	})
	return mux
}

func (a *Agent) adminHandler() http.Handler {
	mux := http.NewServeMux()
	a.statusRoutes(mux)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# HELP pyship_replica_ready Whether a replica passes its readiness probe (1) or not (0).")
		fmt.Fprintln(w, "# TYPE pyship_replica_ready gauge")
		for _, n := range a.appNames() {
			for _, i := range a.app(n).sup.List() {
				v := 0
				if i.Health == rollout.Ready {
					v = 1
				}
				fmt.Fprintf(w, "pyship_replica_ready{app=%q,release=%q,replica=%q} %d\n", n, i.Release, i.ID, v)
			}
		}
		a.writeReleaseMetrics(w)
		for _, n := range a.appNames() {
			if err := a.app(n).proxy.WriteMetrics(w, fmt.Sprintf("app=%q", n)); err != nil {
				a.log().Warn("reading the proxy's metrics", "app", n, "err", err)
			}
		}
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// handleDeploy streams the deploy's progress as JSON lines; the deploy continues if the
// client goes away.
func (a *Agent) handleDeploy(w http.ResponseWriter, r *http.Request) {
	var req DeployRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("decoding the deploy request: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	events := make(chan Event, 64)
	go func() {
		defer close(events)
		final, err := a.deploy(req, func(e Event) {
			select {
			case events <- e:
			default: // a slow or gone client never blocks a deploy
			}
		})
		e := Event{Final: &final}
		if err != nil {
			e.Error = err.Error()
			e.Final = nil
		}
		if rt := a.app(req.App); rt != nil {
			if rt.proxy.serving() != nil {
				rt.mu.Lock()
				e.URL = rt.proxy.publicURL(rt.st.Port)
				rt.mu.Unlock()
			}
		}
		events <- e
	}()
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	for e := range events {
		e.Time = a.Clock.Now()
		if enc.Encode(e) != nil {
			continue
		}
		_ = rc.Flush()
	}
}

func (a *Agent) handleVerb(w http.ResponseWriter, r *http.Request) {
	name, verb := r.PathValue("app"), r.PathValue("verb")
	rt := a.app(name)
	if rt == nil {
		httpError(w, http.StatusNotFound, fmt.Errorf("no app named %q is deployed here (pyship status lists them)", name))
		return
	}
	switch verb {
	case "promote":
		msg, err := rt.promoteNow()
		if err != nil {
			httpError(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, map[string]string{"message": msg})
	case "abort":
		rt.mu.Lock()
		active := rt.st.Deploy != nil && !rt.st.Deploy.Terminal()
		if active {
			rt.abort = true
		}
		rt.mu.Unlock()
		if !active {
			httpError(w, http.StatusConflict, fmt.Errorf("%s has no deploy in progress to abort", name))
			return
		}
		msg := "abort requested: traffic returns to the stable release and the new replicas stop"
		if rt.worker() {
			msg = "abort requested: the stable release's replicas keep running and the new replicas stop"
		}
		writeJSON(w, map[string]string{"message": msg})
	case "stop", "destroy":
		if rt.active.Load() || rt.recovering.Load() {
			httpError(w, http.StatusConflict, fmt.Errorf("a deploy of %s is in progress: run `pyship abort` first, then %s", name, verb))
			return
		}
		rt.deploying.Lock() // housekeeping may hold it for a moment
		// Under the lock: a deploy that ended meanwhile has started its schedule already.
		rt.stopSchedule()
		n, err := rt.stopServing(a.ctx)
		rt.mu.Lock()
		rt.st.Stopped = true
		rt.mu.Unlock()
		if err == nil {
			err = rt.save()
		}
		rt.deploying.Unlock()
		if err == nil && verb == "destroy" {
			a.mu.Lock()
			delete(a.apps, name)
			a.mu.Unlock()
			err = destroy(a.paths(), name, "data")
		}
		if err != nil {
			httpError(w, http.StatusInternalServerError, err)
			return
		}
		again := "serves it again"
		if rt.worker() {
			again = "runs it again"
		}
		msg := fmt.Sprintf("stopped %s (%d replica(s)); `pyship deploy` or `pyship rollback` %s", name, n, again)
		if verb == "destroy" {
			msg = fmt.Sprintf("destroyed %s: replicas, releases, logs and state removed; its data stays in %s", name, a.paths().Data(name))
		}
		writeJSON(w, map[string]string{"message": msg})
	default:
		httpError(w, http.StatusNotFound, fmt.Errorf("unknown action %q", verb))
	}
}

// destroy removes everything of app but the folders keep names (its persistent data, "data",
// always among them).
func destroy(paths release.Paths, app string, keep ...string) error {
	ents, err := os.ReadDir(paths.App(app))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !slices.Contains(keep, e.Name()) {
			if err := os.RemoveAll(filepath.Join(paths.App(app), e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// handleLogs writes the last lines of the app's replica logs, then follows them if asked.
func (a *Agent) handleLogs(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("app")
	rel := r.URL.Query().Get("release")
	follow := r.URL.Query().Get("follow") == "1"
	rt := a.app(name)
	if rt == nil {
		httpError(w, http.StatusNotFound, fmt.Errorf("no app named %q is deployed here", name))
		return
	}
	if rel == "" {
		// The stable release, even when a later deploy failed; before any release was
		// promoted, the one deployed last.
		rt.mu.Lock()
		rel = rt.st.Stable
		if rel == "" && rt.st.Deploy != nil {
			rel = rt.st.Deploy.Spec.Release
		}
		rt.mu.Unlock()
	}
	files, _ := filepath.Glob(filepath.Join(a.paths().Logs(name, rel), "*.log"))
	if len(files) == 0 {
		httpError(w, http.StatusNotFound, fmt.Errorf("release %q of %s has no logs", rel, name))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	rc := http.NewResponseController(w)
	offsets := map[string]int64{}
	for _, f := range files {
		offsets[f] = writeTail(w, f, 100, rt)
	}
	_ = rc.Flush()
	for follow {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		files, _ = filepath.Glob(filepath.Join(a.paths().Logs(name, rel), "*.log"))
		for _, f := range files {
			offsets[f] = writeFrom(w, f, offsets[f], rt)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func writeTail(w io.Writer, file string, n int, rt *app) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	prefix := strings.TrimSuffix(filepath.Base(file), ".log")
	for _, l := range lines {
		if l != "" {
			fmt.Fprintf(w, "%s | %s\n", prefix, rt.redact(l))
		}
	}
	return int64(len(b))
}

func writeFrom(w io.Writer, file string, off int64, rt *app) int64 {
	f, err := os.Open(file)
	if err != nil {
		return off
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off
	}
	prefix := strings.TrimSuffix(filepath.Base(file), ".log")
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return off
		}
		off += int64(len(line))
		fmt.Fprintf(w, "%s | %s", prefix, rt.redact(line))
	}
}

// promoteNow is `pyship promote`: a canary in progress gets all traffic at its next step; after
// a blue-green switch, the rollback window ends and the previous release's warm replicas stop.
// Rolling and blue-green deploys in progress are health-gated and finish by themselves.
func (rt *app) promoteNow() (string, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	d := rt.st.Deploy
	switch {
	case d != nil && !d.Terminal() && d.Spec.Strategy == rollout.Canary:
		rt.promote = true
		return "promote requested: the canary gets all traffic at its next step", nil
	case d != nil && !d.Terminal():
		return "", fmt.Errorf("promote applies to canary deploys only: this %s deploy of %s moves traffic as its replicas pass their health gate and finishes by itself (pyship abort rolls it back)", d.Spec.Strategy, rt.name)
	case d != nil && d.Phase == rollout.Succeeded && d.Spec.Strategy == rollout.BlueGreen && d.Spec.Stable != "" &&
		rt.a.Clock.Now().Before(d.SwitchedAt.Add(d.Spec.RollbackWindow)) && rt.hasReplicas(d.Spec.Stable):
		cp := *d
		cp.Spec.RollbackWindow = 0
		rt.st.Deploy = &cp
		if err := saveState(rt.a.paths(), rt.st); err != nil {
			return "", err
		}
		return fmt.Sprintf("ended the rollback window of %s: its warm replicas stop now (pyship rollback %s starts them again)", d.Spec.Stable, d.Spec.Stable), nil
	case d != nil && d.Phase == rollout.Succeeded && d.Spec.Strategy == rollout.Canary:
		// `pyship deploy --strategy canary && pyship promote` on an app with traffic: the
		// canary went through its steps by itself, and there is nothing left to promote.
		return fmt.Sprintf("nothing to promote: the canary %s of %s already passed every step and serves all traffic", d.Spec.Release, rt.name), nil
	}
	return "", fmt.Errorf("%s has no canary deploy in progress and no blue-green rollback window open to promote", rt.name)
}

func (rt *app) hasReplicas(rel string) bool {
	for _, i := range rt.sup.List() {
		if i.Release == rel {
			return true
		}
	}
	return false
}

// stopServing stops every replica of the app and its proxy process, and says how many
// replicas there were.
func (rt *app) stopServing(ctx context.Context) (int, error) {
	var ids []string
	for _, i := range rt.sup.List() {
		ids = append(ids, i.ID)
	}
	err := rt.Stop(ctx, ids)
	rt.proxy.stop(ctx)
	return len(ids), err
}
