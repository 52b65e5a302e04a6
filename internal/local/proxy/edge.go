package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// The TLS modes of an app on the shared edge.
const (
	TLSNone  = ""      // HTTP only
	TLSACME  = "acme"  // certificates by ACME (HTTP-01 or TLS-ALPN-01), renewed before expiry
	TLSFiles = "files" // a certificate and key from files, reloaded when they change
)

// LetsEncrypt is the ACME directory used when an app names none.
const LetsEncrypt = autocert.DefaultACMEDirectory

// EdgeApp is how the shared edge serves one app: its host names and its TLS.
type EdgeApp struct {
	Hosts         []string `json:"hosts"`
	TLS           string   `json:"tls,omitempty"`
	ACMEEmail     string   `json:"acmeEmail,omitempty"`
	ACMEDirectory string   `json:"acmeDirectory,omitempty"`
	CertFile      string   `json:"certFile,omitempty"`
	KeyFile       string   `json:"keyFile,omitempty"`
	// HSTS is the Strict-Transport-Security max-age in seconds sent over HTTPS; 0: none.
	HSTS int `json:"hsts,omitempty"`
}

// EdgeOptions configure an Edge.
type EdgeOptions struct {
	// CacheDir keeps the ACME account keys and certificates (one folder per directory URL).
	CacheDir string
	// HTTPSPort is the port redirects to HTTPS name (443 is left out of the URL).
	HTTPSPort int
	// RenewBefore is how long before expiry ACME certificates are renewed (default 30 days).
	RenewBefore time.Duration
	// RootCAs, when set, are the CAs trusted for the ACME directory's HTTPS (tests: Pebble's).
	RootCAs *x509.CertPool
	// RootCAFile, when set, is a PEM file RunEdgeProcess reads RootCAs from.
	RootCAFile string
	Log        *slog.Logger
}

// Edge serves several apps on shared HTTP and HTTPS listeners, each chosen by Host (and SNI):
// a host no app claims gets pyship's own 404, never another app's page. Each app has its own
// Proxy (weights, metrics, access rules), configured over the edge's control API.
type Edge struct {
	opts EdgeOptions

	mu       sync.RWMutex
	apps     map[string]*edgeApp
	byHost   map[string]*edgeApp
	managers map[string]*autocert.Manager // by directory and email
}

type edgeApp struct {
	name  string
	cfg   EdgeApp
	proxy *Proxy
	ctl   http.Handler
	mgr   *autocert.Manager // TLSACME
	files *fileCert         // TLSFiles
}

// NewEdge returns an edge serving no app.
func NewEdge(opts EdgeOptions) *Edge {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPSPort == 0 {
		opts.HTTPSPort = 443
	}
	return &Edge{opts: opts, apps: map[string]*edgeApp{}, byHost: map[string]*edgeApp{}, managers: map[string]*autocert.Manager{}}
}

// SetApp serves app by cfg, creating its proxy on first use. It fails, changing nothing, when
// a host is another app's or the TLS settings cannot be used.
func (e *Edge) SetApp(app string, cfg EdgeApp) error {
	if len(cfg.Hosts) == 0 {
		return fmt.Errorf("serving %s on the shared edge: it names no host", app)
	}
	cfg.Hosts = slices.Clone(cfg.Hosts)
	for i, h := range cfg.Hosts {
		cfg.Hosts[i] = strings.ToLower(strings.TrimSuffix(h, "."))
	}
	var files *fileCert
	switch cfg.TLS {
	case TLSNone, TLSACME:
	case TLSFiles:
		f, err := loadFileCert(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("serving %s over TLS: %w", app, err)
		}
		files = f
	default:
		return fmt.Errorf("serving %s: unknown TLS mode %q (acme, files or none)", app, cfg.TLS)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, h := range cfg.Hosts {
		if other := e.byHost[h]; other != nil && other.name != app {
			return fmt.Errorf("serving %s: host %s is already the host of the app %s; remove it from one of them", app, h, other.name)
		}
	}
	old := e.apps[app]
	a := &edgeApp{name: app, cfg: cfg, files: files}
	if old != nil {
		a.proxy, a.ctl = old.proxy, old.ctl
		for _, h := range old.cfg.Hosts {
			delete(e.byHost, h)
		}
	} else {
		a.proxy = New(Options{Log: e.opts.Log.With("app", app)})
		a.ctl = a.proxy.ControlHandler(func() { e.RemoveApp(app) })
	}
	if cfg.TLS == TLSACME {
		a.mgr = e.manager(cfg.ACMEDirectory, cfg.ACMEEmail)
	}
	e.apps[app] = a
	for _, h := range cfg.Hosts {
		e.byHost[h] = a
	}
	return nil
}

// App returns the proxy of app (nil when it is not served): its routing, weights and metrics.
func (e *Edge) App(app string) *Proxy {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if a := e.apps[app]; a != nil {
		return a.proxy
	}
	return nil
}

// RemoveApp stops serving app: new requests for its hosts get 404; requests under way finish.
func (e *Edge) RemoveApp(app string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.apps[app]; a != nil {
		for _, h := range a.cfg.Hosts {
			delete(e.byHost, h)
		}
		delete(e.apps, app)
	}
}

// manager is the ACME manager of directory and email, made on first use; e.mu is held.
func (e *Edge) manager(directory, email string) *autocert.Manager {
	if directory == "" {
		directory = LetsEncrypt
	}
	key := directory + "\x00" + email
	if m := e.managers[key]; m != nil {
		return m
	}
	var base http.RoundTripper = http.DefaultTransport
	if e.opts.RootCAs != nil {
		base = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.opts.RootCAs}, Proxy: http.ProxyFromEnvironment}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &orderLocations{base: base, orders: map[string]string{}}}
	m := &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Email:       email,
		Cache:       autocert.DirCache(filepath.Join(e.opts.CacheDir, cacheName(directory))),
		RenewBefore: e.opts.RenewBefore,
		Client:      &acme.Client{DirectoryURL: directory, HTTPClient: hc},
	}
	m.HostPolicy = func(_ context.Context, host string) error {
		// autocert's HTTP-01 handler passes the Host field, port and all.
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if a := e.lookup(host); a == nil || a.mgr != m {
			return fmt.Errorf("pyship: no app asks for a certificate for %q", host)
		}
		return nil
	}
	m.HTTPHandler(nil) // enables HTTP-01 next to TLS-ALPN-01
	e.managers[key] = m
	return m
}

// cacheName is a folder name for an ACME directory URL.
func cacheName(directory string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.TrimPrefix(strings.TrimPrefix(directory, "https://"), "http://"))
}

func (e *Edge) lookup(host string) *edgeApp {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.byHost[strings.ToLower(strings.TrimSuffix(host, "."))]
}

func notServed(w http.ResponseWriter) {
	http.Error(w, "pyship: no app is served for this host name", http.StatusNotFound)
}

// HTTPHandler serves the shared HTTP port: ACME HTTP-01 challenges, redirects to HTTPS (308)
// for apps with TLS, and the apps without.
func (e *Edge) HTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostName(r)
		a := e.lookup(host)
		switch {
		case a == nil:
			notServed(w)
		case a.mgr != nil && strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/"):
			a.mgr.HTTPHandler(nil).ServeHTTP(w, r)
		case a.cfg.TLS != TLSNone:
			target := "https://" + host
			if e.opts.HTTPSPort != 443 {
				target += ":" + strconv.Itoa(e.opts.HTTPSPort)
			}
			w.Header().Set("Connection", "close")
			http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusPermanentRedirect)
		default:
			a.proxy.ServeHTTP(w, r)
		}
	})
}

// HTTPSHandler serves the shared HTTPS port. A request whose Host is not the name its TLS
// connection was made for is answered 421 (Misdirected Request), so a connection a client
// reuses for another name never reaches an app by accident.
func (e *Edge) HTTPSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostName(r)
		a := e.lookup(host)
		if a == nil || a.cfg.TLS == TLSNone {
			notServed(w)
			return
		}
		if sni := strings.ToLower(r.TLS.ServerName); sni != "" && e.lookup(sni) != a {
			http.Error(w, "pyship: this connection was made for another host name", http.StatusMisdirectedRequest)
			return
		}
		if a.cfg.HSTS > 0 {
			w.Header().Set("Strict-Transport-Security", "max-age="+strconv.Itoa(a.cfg.HSTS))
		}
		a.proxy.ServeHTTP(w, r)
	})
}

// TLSConfig chooses each connection's certificate by SNI and negotiates HTTP/2 by ALPN; an
// unknown name fails the handshake.
func (e *Edge) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1", acme.ALPNProto},
		GetCertificate: e.getCertificate,
	}
}

func (e *Edge) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" && hello.Conn != nil {
		// No SNI (a client dialing an address): the address is the name.
		name, _, _ = net.SplitHostPort(hello.Conn.LocalAddr().String())
	}
	a := e.lookup(name)
	switch {
	case a == nil:
		return nil, fmt.Errorf("pyship: no app is served for the TLS name %q", hello.ServerName)
	case a.mgr != nil:
		return a.mgr.GetCertificate(hello)
	case a.files != nil:
		return a.files.get(e.opts.Log)
	}
	return nil, fmt.Errorf("pyship: the app of %q is not served over TLS", hello.ServerName)
}

// ControlHandler is the edge's control API: GET /v1/state, PUT /v1/apps/{app}/edge (an
// EdgeApp), /v1/apps/{app}/... (the app's proxy's own API; its shutdown removes the app) and
// POST /v1/shutdown (the whole edge).
func (e *Edge) ControlHandler(shutdown func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		e.mu.RLock()
		apps := slices.Sorted(func(yield func(string) bool) {
			for n := range e.apps {
				if !yield(n) {
					return
				}
			}
		})
		e.mu.RUnlock()
		writeJSON(w, map[string]any{"pid": os.Getpid(), "apps": apps})
	})
	mux.HandleFunc("PUT /v1/apps/{app}/edge", func(w http.ResponseWriter, r *http.Request) {
		var cfg EdgeApp
		if !readJSON(w, r, &cfg) {
			return
		}
		if err := e.SetApp(r.PathValue("app"), cfg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{})
	})
	mux.HandleFunc("/v1/apps/{app}/", func(w http.ResponseWriter, r *http.Request) {
		app := r.PathValue("app")
		e.mu.RLock()
		a := e.apps[app]
		e.mu.RUnlock()
		if a == nil {
			http.Error(w, "the edge does not serve the app "+app, http.StatusNotFound)
			return
		}
		http.StripPrefix("/v1/apps/"+app, a.ctl).ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /v1/shutdown", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{})
		shutdown()
	})
	return mux
}

// Serve serves the HTTP and HTTPS listeners until ctx ends, then drains within drain.
func (e *Edge) Serve(ctx context.Context, httpLn, httpsLn net.Listener, drain time.Duration) error {
	d := func() time.Duration { return drain }
	errs := make(chan error, 2)
	go func() { errs <- serveEdge(ctx, httpLn, e.HTTPHandler(), nil, d, e.opts.Log) }()
	go func() { errs <- serveEdge(ctx, httpsLn, e.HTTPSHandler(), e.TLSConfig(), d, e.opts.Log) }()
	err := <-errs
	if ctx.Err() == nil {
		// One listener failed: stop the other as well rather than serve half the edge.
		return fmt.Errorf("serving the shared edge: %w", err)
	}
	return errors.Join(err, <-errs)
}

// RunEdgeProcess is the main of the shared edge process: like RunProcess, but serving several
// apps by host name on the HTTP and HTTPS listeners.
func RunEdgeProcess(ctx context.Context, httpLn, httpsLn net.Listener, control string, opts EdgeOptions) error {
	if opts.RootCAFile != "" {
		pem, err := os.ReadFile(opts.RootCAFile)
		if err != nil {
			return fmt.Errorf("reading the ACME root CAs: %w", err)
		}
		opts.RootCAs = x509.NewCertPool()
		if !opts.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("reading the ACME root CAs: %s holds no PEM certificate", opts.RootCAFile)
		}
	}
	e := NewEdge(opts)
	if tcp, ok := httpsLn.Addr().(*net.TCPAddr); ok && opts.HTTPSPort == 0 {
		e.opts.HTTPSPort = tcp.Port
	}
	return runControlled(ctx, control, e.ControlHandler, func(ctx context.Context) error {
		return e.Serve(ctx, httpLn, httpsLn, 30*time.Second)
	}, httpLn, httpsLn)
}

// fileCert is a certificate from files, loaded again when either file changes (checked at
// most once a second).
type fileCert struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	stamp             string
	checked           time.Time
}

func loadFileCert(certFile, keyFile string) (*fileCert, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls = \"files\" needs both cert_file and key_file")
	}
	f := &fileCert{certFile: certFile, keyFile: keyFile}
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fileCert) fileStamp() string {
	var s strings.Builder
	for _, p := range []string{f.certFile, f.keyFile} {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&s, "%d/%d;", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return s.String()
}

func (f *fileCert) load() error {
	stamp := f.fileStamp()
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("loading the certificate %s and key %s: %w", f.certFile, f.keyFile, err)
	}
	f.cert, f.stamp = &c, stamp
	return nil
}

func (f *fileCert) get(log *slog.Logger) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.Sub(f.checked) >= time.Second {
		f.checked = now
		if f.fileStamp() != f.stamp {
			if err := f.load(); err != nil {
				// A half-written pair: keep serving the old one until both files agree.
				log.Warn("reloading a certificate (the previous one is kept)", "err", err)
			}
		}
	}
	return f.cert, nil
}

// orderLocations gives an ACME finalize response that has no Location header (RFC 8555 does
// not require one; Pebble sends none) the URL of its order, which x/crypto/acme needs to wait
// for the certificate: it remembers each order's finalize URL from the order's creation.
type orderLocations struct {
	base   http.RoundTripper
	mu     sync.Mutex
	orders map[string]string // finalize URL -> order URL
}

func (t *orderLocations) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost {
		return resp, err
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.mu.Lock()
		order := t.orders[req.URL.String()]
		t.mu.Unlock()
		if order != "" {
			resp.Header.Set("Location", order)
		}
		return resp, nil
	}
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the ACME server's answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var o struct {
		Finalize string `json:"finalize"`
	}
	if json.Unmarshal(b, &o) == nil && o.Finalize != "" {
		t.mu.Lock()
		if len(t.orders) > 1000 {
			clear(t.orders) // orders are finalized within minutes; this only bounds the memory
		}
		t.orders[o.Finalize] = loc
		t.mu.Unlock()
	}
	return resp, nil
}
