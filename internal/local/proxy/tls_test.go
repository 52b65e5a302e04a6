package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// selfSigned is a certificate for names, and a pool that trusts it.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// TestHostRoutingOverTLS: with a TLS config the router serves HTTPS, negotiates HTTP/2 by
// ALPN, and still routes by Host (the slot for certificates by ACME).
func TestHostRoutingOverTLS(t *testing.T) {
	cert, pool := selfSigned(t, "shop.example", "blog.example")
	shop, blog := New(Options{}), New(Options{})
	shop.AddBackend("s1", "r1", backendServer(t, "shop").Listener.Addr().String())
	shop.SetWeights(map[string]int{"r1": 100})
	blog.AddBackend("b1", "r1", backendServer(t, "blog").Listener.Addr().String())
	blog.SetWeights(map[string]int{"r1": 100})
	hr := &HostRouter{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	hr.Set("shop.example", shop)
	hr.Set("blog.example", blog)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hr.Serve(ctx, ln, time.Second, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
		},
	}}
	for host, want := range map[string]string{"shop.example": "shop", "blog.example": "blog"} {
		resp, err := client.Get("https://" + host + "/headers")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(b) != "127.0.0.1|"+host+"|https|"+host {
			t.Errorf("%s: %s %q, want HTTP/2 and the backend seeing Host %s over https", host, resp.Proto, b, want)
		}
	}
	req, _ := http.NewRequest("GET", "https://shop.example/", nil)
	req.Host = "unknown.example"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown Host over TLS: %d, want 404", resp.StatusCode)
	}
}
