package image_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
)

func TestBadBaseIsAClearError(t *testing.T) {
	e := env(t)
	p := appPlan(t, "stdlib", copyApp(t, "stdlib"))
	emptyDir := t.TempDir()
	if _, err := layout.Write(emptyDir, empty.Index); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, base, python string
		want               []string
	}{
		{"missing layout", "oci-layout:" + filepath.Join(t.TempDir(), "nope"), "3.11", []string{"loading the base image", "--base"}},
		{"empty layout", "oci-layout:" + emptyDir, "3.11", []string{"no image in the OCI layout"}},
		{"bad reference", "Not A Reference!", "3.11", []string{"not a file, an oci-layout:DIR or an image reference"}},
		{"python mismatch", e.Base, "3.12", []string{"has Python 3.11.2 at /usr/bin/python3.11 but the app needs Python 3.12", "python:3.12-slim"}},
		// A base on a registry that does not answer: the advice is about the base, never
		// about the registry pushed to.
		{"unreachable base registry", fmt.Sprintf("127.0.0.1:%d/python:3.11-slim", testsvc.Port(t)), "3.11",
			[]string{"the registry cannot be reached", "set [build] base (or --base) to an image in a registry this machine can reach"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Python.Version = tc.python
			_, err := image.Build(ctxT(t), p, image.Options{CacheDir: e.Cache, Env: e.Env, Python: e.Python, Base: tc.base})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "registry serve") {
				t.Errorf("error %q gives the push registry's advice for a base image", err)
			}
		})
	}
}

func TestSdistOnlyDependencyIsAClearError(t *testing.T) {
	e := env(t)
	links := t.TempDir()
	// A real source distribution with no wheel beside it.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "setup.py"), []byte("from setuptools import setup\nsetup(name='onlysdist', version='1.0', py_modules=['onlysdist'])\n"), 0o644)
	os.WriteFile(filepath.Join(src, "onlysdist.py"), []byte("X = 1\n"), 0o644)
	os.WriteFile(filepath.Join(src, "PKG-INFO"), []byte("Metadata-Version: 1.0\nName: onlysdist\nVersion: 1.0\n"), 0o644)
	if out, err := exec.Command("tar", "-czf", filepath.Join(links, "onlysdist-1.0.tar.gz"), "--transform", "s,^\\.,onlysdist-1.0,", "-C", src, ".").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	p := appPlan(t, "flask", copyApp(t, "flask"))
	p.Dependencies.Requirements = append(p.Dependencies.Requirements, reqs("onlysdist==1.0")...)
	_, err := image.Build(ctxT(t), p, image.Options{CacheDir: e.Cache, Python: e.Python, Base: e.Base,
		Env: testsvc.WithEnv(e.Env, "PIP_FIND_LINKS="+e.Wheelhouse+" "+links)})
	var nw *pybuild.NoWheelError
	if !errors.As(err, &nw) {
		t.Fatalf("error %v, want a NoWheelError", err)
	}
	if !strings.HasPrefix(nw.Requirement, "onlysdist") || !strings.Contains(err.Error(), "pyship dockerfile") {
		t.Errorf("error %q does not name onlysdist and point to pyship dockerfile", err)
	}
}

func TestPushErrorsAreClassified(t *testing.T) {
	e := env(t)
	reg := testsvc.Start(t, "registry")
	res := build(t, appPlan(t, "stdlib", copyApp(t, "stdlib")), "")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(must(os.ReadFile(reg["PYSHIP_TEST_REGISTRY_CA"])))
	trusting := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	tlsRepo := reg["PYSHIP_TEST_REGISTRY_TLS"] + "/test/stdlib"

	// The credentials of a user's Docker config ({"auths": {host: {"auth": base64(user:pass)}}}),
	// handed over as a keychain rather than through DOCKER_CONFIG of the process.
	dockerConfig := func(user, pass string) authn.Keychain {
		return keychainFunc(func(r authn.Resource) (authn.Authenticator, error) {
			if r.RegistryStr() != reg["PYSHIP_TEST_REGISTRY_TLS"] {
				return authn.Anonymous, nil
			}
			return authn.FromConfig(authn.AuthConfig{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}), nil
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		_, err := image.Push(ctxT(t), res, "127.0.0.1:1/test/stdlib", image.PushOptions{})
		if !errors.Is(err, image.ErrUnreachable) || !strings.Contains(err.Error(), "pyship registry serve") {
			t.Errorf("error %v, want ErrUnreachable with a hint", err)
		}
	})
	t.Run("unknown certificate authority", func(t *testing.T) {
		kc := dockerConfig(reg["PYSHIP_TEST_REGISTRY_USER"], reg["PYSHIP_TEST_REGISTRY_PASSWORD"])
		_, err := image.Push(ctxT(t), res, tlsRepo, image.PushOptions{Keychain: kc})
		if !errors.Is(err, image.ErrUnknownCA) || !strings.Contains(err.Error(), "SSL_CERT_FILE") {
			t.Errorf("error %v, want ErrUnknownCA with a hint", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		kc := dockerConfig(reg["PYSHIP_TEST_REGISTRY_USER"], "wrong")
		_, err := image.Push(ctxT(t), res, tlsRepo, image.PushOptions{Keychain: kc, Transport: trusting})
		if !errors.Is(err, image.ErrUnauthorized) || !strings.Contains(err.Error(), "docker login") {
			t.Errorf("error %v, want ErrUnauthorized with a hint", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		none := keychainFunc(func(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil })
		_, err := image.Push(ctxT(t), res, tlsRepo, image.PushOptions{Keychain: none, Transport: trusting})
		if !errors.Is(err, image.ErrUnauthorized) {
			t.Errorf("error %v, want ErrUnauthorized", err)
		}
	})
	t.Run("no push rights", func(t *testing.T) {
		// A read-only repository: an authorization proxy in front of the real registry denies
		// writes to readonly/ with 403 DENIED, as registries do for an account that may only pull.
		target, _ := url.Parse("http://" + e.Registry)
		proxy := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v2/readonly/") && r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		_, err := image.Push(ctxT(t), res, host+"/readonly/stdlib", image.PushOptions{})
		if !errors.Is(err, image.ErrForbidden) || !strings.Contains(err.Error(), "may not push to this repository") || !strings.Contains(err.Error(), host) {
			t.Errorf("error %v, want ErrForbidden naming %s with a hint", err, host)
		}
		// The same proxy lets a writable repository through: the 403 is the repository's.
		if _, err := image.Push(ctxT(t), res, host+"/writable/stdlib", image.PushOptions{}); err != nil {
			t.Errorf("push through the proxy to a writable repository: %v", err)
		}
	})
	t.Run("good credentials", func(t *testing.T) {
		kc := dockerConfig(reg["PYSHIP_TEST_REGISTRY_USER"], reg["PYSHIP_TEST_REGISTRY_PASSWORD"])
		ref, err := image.Push(ctxT(t), res, tlsRepo, image.PushOptions{Keychain: kc, Transport: trusting})
		if err != nil || !strings.HasSuffix(ref, res.Digest.String()) {
			t.Errorf("push with good credentials: %q, %v", ref, err)
		}
	})
}

// keychainFunc is an authn.Keychain from a function.
type keychainFunc func(authn.Resource) (authn.Authenticator, error)

func (f keychainFunc) Resolve(r authn.Resource) (authn.Authenticator, error) { return f(r) }
