package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
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
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
)

// serveEdgeOn serves e on the two ports until the test ends.
func serveEdgeOn(t *testing.T, e *Edge, httpPort, httpsPort int) {
	t.Helper()
	var lns []net.Listener
	for _, p := range []int{httpPort, httpsPort} {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, lns[0], lns[1], time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
}

// addEdgeApp puts an app answering name on e.
func addEdgeApp(t *testing.T, e *Edge, name string, cfg EdgeApp) {
	t.Helper()
	if err := e.SetApp(name, cfg); err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	p := e.apps[name].proxy
	e.mu.RUnlock()
	p.AddBackend(name+"1", "r1", backendServer(t, name).Listener.Addr().String())
	p.SetWeights(map[string]int{"r1": 100})
}

// edgeClient trusts roots, dials every name at 127.0.0.1 (the port of the URL), speaks HTTP/2
// when offered, opens a new connection per request and does not follow redirects.
func edgeClient(roots *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
		}}
}

type fetched struct {
	status int
	body   string
	resp   *http.Response
}

func fetch(t *testing.T, c *http.Client, url, host string) (fetched, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, string(b), resp}, nil
}

// TestEdgeACME: apps on the shared ports get certificates from a real ACME server (Pebble,
// validating each name by connecting to the edge), each its own by SNI; HTTP/2 is negotiated;
// HTTP redirects to HTTPS (308) for apps with TLS and serves the others; HSTS only when asked;
// unknown hosts get 404 over both; a certificate near its expiry is replaced without a restart.
func TestEdgeACME(t *testing.T) {
	acme := testsvc.HoldACME(t)
	e := NewEdge(EdgeOptions{CacheDir: t.TempDir(), HTTPSPort: acme.HTTPSPort, RootCAs: acme.CA,
		RenewBefore: 50 * time.Second, // Pebble's certificates here live 60 s: renew after about 10
		Log:         slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	addEdgeApp(t, e, "shop", EdgeApp{Hosts: []string{"shop.pyship.test"}, TLS: TLSACME, ACMEDirectory: acme.Directory, HSTS: 600})
	addEdgeApp(t, e, "blog", EdgeApp{Hosts: []string{"blog.pyship.test"}, TLS: TLSACME, ACMEDirectory: acme.Directory, ACMEEmail: "ops@pyship.test"})
	addEdgeApp(t, e, "plain", EdgeApp{Hosts: []string{"plain.pyship.test"}})
	serveEdgeOn(t, e, acme.HTTPPort, acme.HTTPSPort)
	c := edgeClient(acme.Root)
	https := fmt.Sprintf("https://%%s:%d/", acme.HTTPSPort)
	http1 := fmt.Sprintf("http://127.0.0.1:%d/", acme.HTTPPort)

	serials := map[string]string{}
	for _, name := range []string{"shop", "blog"} {
		host := name + ".pyship.test"
		f, err := fetch(t, c, fmt.Sprintf(https, host), "")
		if err != nil {
			t.Fatalf("%s over HTTPS: %v", host, err)
		}
		leaf := f.resp.TLS.PeerCertificates[0]
		if f.status != 200 || f.body != name || f.resp.ProtoMajor != 2 || !slices.Equal(leaf.DNSNames, []string{host}) {
			t.Errorf("%s: %d %q over %s, certificate for %v; want 200 %q over HTTP/2 with its own certificate", host, f.status, f.body, f.resp.Proto, leaf.DNSNames, name)
		}
		serials[name] = leaf.SerialNumber.String()
		hsts := f.resp.Header.Get("Strict-Transport-Security")
		if want := map[string]string{"shop": "max-age=600", "blog": ""}[name]; hsts != want {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", host, hsts, want)
		}
	}

	f, err := fetch(t, c, http1+"cart?x=1", "shop.pyship.test")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("https://shop.pyship.test:%d/cart?x=1", acme.HTTPSPort); f.status != http.StatusPermanentRedirect || f.resp.Header.Get("Location") != want {
		t.Errorf("HTTP for an app with TLS: %d to %q, want 308 to %s", f.status, f.resp.Header.Get("Location"), want)
	}
	if f, err := fetch(t, c, http1, "plain.pyship.test"); err != nil || f.status != 200 || f.body != "plain" {
		t.Errorf("HTTP for an app without TLS: %+v %v, want its page", f, err)
	}
	for _, u := range []struct{ url, host string }{{http1, "other.pyship.test"}, {fmt.Sprintf(https, "shop.pyship.test"), "other.pyship.test"}} {
		if f, err := fetch(t, c, u.url, u.host); err != nil || f.status != 404 || f.body != "pyship: no app is served for this host name\n" {
			t.Errorf("unknown host by %s: %d %q %v, want pyship's 404", u.url, f.status, f.body, err)
		}
	}
	if f, err := fetch(t, c, fmt.Sprintf(https, "blog.pyship.test"), "shop.pyship.test"); err != nil || f.status != http.StatusMisdirectedRequest {
		t.Errorf("a request for shop on blog's TLS connection: %d %v, want 421", f.status, err)
	}
	if _, err := fetch(t, c, fmt.Sprintf(https, "other.pyship.test"), ""); err == nil {
		t.Error("a TLS handshake for an unknown name succeeded")
	}

	// Renewal: the same listener soon serves a new certificate.
	err = testsvc.Poll(45*time.Second, func() error {
		f, err := fetch(t, c, fmt.Sprintf(https, "shop.pyship.test"), "")
		if err != nil {
			return err
		}
		if s := f.resp.TLS.PeerCertificates[0].SerialNumber.String(); s == serials["shop"] {
			return errors.New("still the first certificate")
		}
		return nil
	})
	if err != nil {
		t.Errorf("the certificate was not renewed: %v", err)
	}
}

// TestEdgeCertificateFromFiles: a certificate from files is served, and replaced when the
// files change, without a restart; a pair that cannot be loaded is refused at configuration.
func TestEdgeCertificateFromFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(cert tls.Certificate) {
		t.Helper()
		key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		// Atomic writes, as a certificate tool should do them.
		for file, b := range map[string][]byte{
			certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
			keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})} {
			if err := os.WriteFile(file+".tmp", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(file+".tmp", file); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, pool1 := selfSigned(t, "files.pyship.test")
	write(first)
	e := NewEdge(EdgeOptions{})
	if err := e.SetApp("bad", EdgeApp{Hosts: []string{"bad.pyship.test"}, TLS: TLSFiles, CertFile: keyFile, KeyFile: keyFile}); err == nil {
		t.Error("a key given as the certificate was accepted")
	}
	addEdgeApp(t, e, "files", EdgeApp{Hosts: []string{"files.pyship.test"}, TLS: TLSFiles, CertFile: certFile, KeyFile: keyFile, HSTS: 60})
	httpPort, httpsPort := testsvc.Port(t), testsvc.Port(t)
	serveEdgeOn(t, e, httpPort, httpsPort)
	url := fmt.Sprintf("https://files.pyship.test:%d/", httpsPort)
	f, err := fetch(t, edgeClient(pool1), url, "")
	if err != nil || f.status != 200 || f.body != "files" || f.resp.ProtoMajor != 2 {
		t.Fatalf("with the first certificate: %+v %v", f, err)
	}
	second, pool2 := selfSigned(t, "files.pyship.test")
	write(second)
	if err := testsvc.Poll(10*time.Second, func() error {
		_, err := fetch(t, edgeClient(pool2), url, "")
		return err
	}); err != nil {
		t.Errorf("the new certificate in the files is not served: %v", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// TestEdgeACMEOverHTTP01: with nothing on the HTTPS port (TLS-ALPN-01 fails), the certificate
// comes by HTTP-01 through the edge's HTTP port.
func TestEdgeACMEOverHTTP01(t *testing.T) {
	acme := testsvc.HoldACME(t)
	e := NewEdge(EdgeOptions{CacheDir: t.TempDir(), RootCAs: acme.CA})
	addEdgeApp(t, e, "shop", EdgeApp{Hosts: []string{"http01.pyship.test"}, TLS: TLSACME, ACMEDirectory: acme.Directory})
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(acme.HTTPPort)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveEdge(ctx, ln, e.HTTPHandler(), nil, func() time.Duration { return time.Second }, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })
	cert, err := e.getCertificate(&tls.ClientHelloInfo{ServerName: "http01.pyship.test", SupportedProtos: []string{"h2"},
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12}})
	if err != nil {
		t.Fatalf("getting a certificate by HTTP-01: %v", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "http01.pyship.test", Roots: acme.Root, Intermediates: inter}); err != nil {
		t.Errorf("the certificate is not Pebble's for the name: %v", err)
	}
}
