package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// ControlOptions are the options a controller may change at run time (the Log stays the
// serving process's).
type ControlOptions struct {
	RequestTimeout time.Duration `json:"requestTimeout"`
	DrainTimeout   time.Duration `json:"drainTimeout"`
	StickyCookie   string        `json:"stickyCookie,omitempty"`
	// Access carries bcrypt hashes, never passwords; the socket is the agent's alone (0600).
	Access Access `json:"access"`
}

// State is a proxy's routing table as its control API reports it.
type State struct {
	PID      int                 `json:"pid"`
	Weights  map[string]int      `json:"weights"`
	Backends map[string][]string `json:"backends"`
}

type backendReq struct {
	Release string `json:"release"`
	Addr    string `json:"addr"`
}

// ControlHandler is the proxy's control API, served on a unix socket by RunProcess: the
// agent configures the routing table through it and reads the metrics. shutdown is called
// by POST /v1/shutdown.
func (p *Proxy) ControlHandler(shutdown func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, State{PID: os.Getpid(), Weights: p.Weights(), Backends: p.Backends()})
	})
	mux.HandleFunc("PUT /v1/options", func(w http.ResponseWriter, r *http.Request) {
		var o ControlOptions
		if !readJSON(w, r, &o) {
			return
		}
		cur := p.opts.Load()
		if err := p.Reconfigure(Options{RequestTimeout: o.RequestTimeout, DrainTimeout: o.DrainTimeout, StickyCookie: o.StickyCookie,
			Access: o.Access, ClientTimeout: cur.ClientTimeout, Log: cur.Log}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{})
	})
	mux.HandleFunc("PUT /v1/weights", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]int
		if !readJSON(w, r, &m) {
			return
		}
		if err := p.SetWeights(m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{})
	})
	mux.HandleFunc("PUT /v1/backends/{id}", func(w http.ResponseWriter, r *http.Request) {
		var b backendReq
		if !readJSON(w, r, &b) {
			return
		}
		p.AddBackend(r.PathValue("id"), b.Release, b.Addr)
		writeJSON(w, map[string]string{})
	})
	mux.HandleFunc("DELETE /v1/backends/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]int64{"inflight": p.RemoveBackend(r.Context(), r.PathValue("id"))})
	})
	mux.HandleFunc("GET /v1/metrics/{release}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, p.Metrics(r.PathValue("release")))
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_ = p.WriteMetrics(w, r.URL.Query().Get("labels"))
	})
	mux.HandleFunc("POST /v1/shutdown", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{})
		shutdown()
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, "decoding the request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// RunProcess is the main of a proxy process: it serves the public listener ln with an empty
// routing table and the control API on the unix socket control, until ctx ends or the
// controller asks it to shut down; then it drains in-flight requests and returns. The
// process outlives its controller, so requests keep flowing on the last routing table while
// the agent restarts.
func RunProcess(ctx context.Context, ln net.Listener, control string, opts Options) error {
	p := New(opts)
	return runControlled(ctx, control, p.ControlHandler, func(ctx context.Context) error { return p.Serve(ctx, ln) }, ln)
}

// runControlled serves the control API made by handler on the unix socket control while
// serve runs, until ctx ends or the API asks to shut down; lns are closed if it cannot start.
func runControlled(ctx context.Context, control string, handler func(shutdown func()) http.Handler, serve func(context.Context) error, lns ...net.Listener) error {
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	_ = os.Remove(control)
	cl, err := net.Listen("unix", control)
	if err != nil {
		closeAll()
		return fmt.Errorf("listening on the proxy control socket %s: %w", control, err)
	}
	if err := os.Chmod(control, 0o600); err != nil {
		cl.Close()
		closeAll()
		return err
	}
	defer os.Remove(control)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	csrv := &http.Server{Handler: handler(stop), ReadHeaderTimeout: 10 * time.Second}
	go csrv.Serve(cl)
	err = serve(sctx)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = csrv.Shutdown(cctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
