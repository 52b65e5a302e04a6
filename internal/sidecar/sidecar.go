// Package sidecar is pyship's proxy sidecar for Kubernetes (`pyship agent sidecar`): pyship's
// hardened reverse proxy (internal/local/proxy: the same framing checks, timeouts and metrics
// as on the local target) in front of one app container of the same pod, so every release
// exports the same per-release request series with no code in the app.
package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
)

// Options configure the sidecar.
type Options struct {
	// App and Release label every series; Version and Strategy label pyship_release_info.
	App, Release, Version, Strategy string
	// Backend is the app's address in the pod, host:port (e.g. 127.0.0.1:8000).
	Backend string
	// RequestTimeout bounds the wait for the app's response headers (default 60s);
	// DrainTimeout the wait for in-flight requests once the sidecar is told to stop (default 30s).
	RequestTimeout, DrainTimeout time.Duration
	Log                          *slog.Logger
}

func (o Options) check() error {
	for _, f := range []struct{ flag, v string }{{"--app", o.App}, {"--release", o.Release}, {"--backend", o.Backend}} {
		if f.v == "" {
			return fmt.Errorf("starting the proxy sidecar: %s is empty (the rendered pod passes it; the release comes from the pod's pyship.dev/release label through PYSHIP_RELEASE)", f.flag)
		}
	}
	if _, _, err := net.SplitHostPort(o.Backend); err != nil {
		return fmt.Errorf("starting the proxy sidecar: --backend %q is not host:port: %w", o.Backend, err)
	}
	return nil
}

// Run proxies the requests of serve to the backend until ctx ends, then stops accepting and
// lets in-flight requests finish within the drain timeout. metrics serves /metrics (the
// per-release series) and /healthz (200 while serving, 503 once draining) until the proxy
// has drained, so a last scrape still sees the final counts.
func Run(ctx context.Context, serve, metrics net.Listener, o Options) error {
	if err := o.check(); err != nil {
		serve.Close()
		metrics.Close()
		return err
	}
	p := proxy.New(proxy.Options{RequestTimeout: o.RequestTimeout, DrainTimeout: o.DrainTimeout, Log: o.Log})
	p.AddBackend("app", o.Release, o.Backend)
	if err := p.SetWeights(map[string]int{o.Release: 100}); err != nil {
		return err
	}
	var draining atomic.Bool
	msrv := &http.Server{Handler: handler(p, o, &draining), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	mdone := make(chan error, 1)
	go func() { mdone <- msrv.Serve(metrics) }()
	go func() {
		<-ctx.Done()
		draining.Store(true)
	}()
	err := p.Serve(ctx, serve)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = msrv.Shutdown(sctx)
	if merr := <-mdone; err == nil && !errors.Is(merr, http.ErrServerClosed) {
		err = fmt.Errorf("serving the sidecar's metrics: %w", merr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// labelValue escapes v for a label value of the Prometheus text format.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

func handler(p *proxy.Proxy, o Options, draining *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := p.WriteMetrics(w, `app="`+labelValue(o.App)+`"`); err != nil {
			return
		}
		fmt.Fprintf(w, "# HELP pyship_release_info A release that runs (1), with its version and rollout strategy.\n# TYPE pyship_release_info gauge\n")
		fmt.Fprintf(w, "pyship_release_info{app=\"%s\",release=\"%s\",version=\"%s\",strategy=\"%s\"} 1\n",
			labelValue(o.App), labelValue(o.Release), labelValue(o.Version), labelValue(o.Strategy))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}
