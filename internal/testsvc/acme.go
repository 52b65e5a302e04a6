package testsvc

import (
	"crypto/x509"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// ACME is the test ACME server (Pebble, scripts/services start acme), held by one test.
type ACME struct {
	// Directory is the directory URL; CAFile the CA of its HTTPS, CA the same as a pool.
	Directory string
	CAFile    string
	CA        *x509.CertPool
	// Root is the root of the certificates it issues, RootFile the same as PEM.
	Root     *x509.CertPool
	RootFile string
	// HTTPPort and HTTPSPort are where Pebble validates challenges (HTTP-01 and TLS-ALPN-01)
	// on 127.0.0.1: the test's edge must listen there. Every name resolves to 127.0.0.1.
	HTTPPort, HTTPSPort int
}

// HoldACME starts the acme service and holds its validation ports for the rest of the test:
// they are fixed, and tests of other packages wait meanwhile.
func HoldACME(t testing.TB) ACME {
	t.Helper()
	env := Start(t, "acme")
	lock, err := os.OpenFile(env["PYSHIP_TEST_ACME_LOCK"], os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	pool := func(file string) *x509.CertPool {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(b) {
			t.Fatalf("%s holds no certificate", file)
		}
		return p
	}
	a := ACME{Directory: env["PYSHIP_TEST_ACME_DIRECTORY"], CAFile: env["PYSHIP_TEST_ACME_CA"],
		CA: pool(env["PYSHIP_TEST_ACME_CA"]), Root: pool(env["PYSHIP_TEST_ACME_ROOT"]), RootFile: env["PYSHIP_TEST_ACME_ROOT"]}
	a.HTTPPort, _ = strconv.Atoi(env["PYSHIP_TEST_ACME_HTTP_PORT"])
	a.HTTPSPort, _ = strconv.Atoi(env["PYSHIP_TEST_ACME_TLS_PORT"])
	if a.HTTPPort == 0 || a.HTTPSPort == 0 {
		t.Fatalf("scripts/services start acme exported no validation ports: %v", env)
	}
	return a
}
