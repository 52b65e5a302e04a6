package proxy

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// HostRouter serves several apps on one listener, each chosen by the request's Host (as
// kamal-proxy does); a host no app claims gets 404 from pyship, never another app's page.
// It is the slot for a shared port 80/443 (and, with a TLS config on the server, SNI).
type HostRouter struct {
	// TLSConfig, when set, makes Serve speak TLS, choosing certificates by SNI (its
	// GetCertificate is where autocert or certmagic slot in) and negotiating HTTP/2 by ALPN.
	TLSConfig *tls.Config

	mu     sync.RWMutex
	byHost map[string]http.Handler
}

// Set routes requests for host (a name without port, any case) to app.
func (h *HostRouter) Set(host string, app http.Handler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byHost == nil {
		h.byHost = map[string]http.Handler{}
	}
	h.byHost[strings.ToLower(host)] = app
}

// Remove stops routing host.
func (h *HostRouter) Remove(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.byHost, strings.ToLower(host))
}

func (h *HostRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.RLock()
	app := h.byHost[hostName(r)]
	h.mu.RUnlock()
	if app == nil {
		http.Error(w, "pyship: no app is served for this host name", http.StatusNotFound)
		return
	}
	app.ServeHTTP(w, r)
}

// Serve serves the router on ln with the edge's limits until ctx ends, then drains within
// drain; log receives net/http's complaints.
func (h *HostRouter) Serve(ctx context.Context, ln net.Listener, drain time.Duration, log *slog.Logger) error {
	return serveEdge(ctx, ln, h, h.TLSConfig, func() time.Duration { return drain }, log)
}

// hostName is the request's host name without port or trailing dot, in lowercase.
func hostName(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
