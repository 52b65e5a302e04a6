package registry_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pyship/pyship/internal/registry"
	"github.com/pyship/pyship/internal/testsvc"
)

// serve runs the registry on a free loopback port until the returned stop is called.
func serve(t *testing.T, dir string) (addr string, stop func()) {
	t.Helper()
	addr = fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- registry.Serve(ctx, registry.Options{Addr: addr, Dir: dir}, func(string) { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the registry did not start within 10 s")
	}
	testsvc.Eventually(t, 10*time.Second, "/v2/ to answer 200", func() error {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s", resp.Status)
		}
		return nil
	})
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stopping: %v", err)
		}
	}
}

func TestContentSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	addr, stop := serve(t, dir)
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(addr + "/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	stop()

	addr2, stop2 := serve(t, dir)
	defer stop2()
	ref2, _ := name.ParseReference(addr2 + "/app:1")
	got, err := remote.Image(ref2)
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("after a restart app:1 is %s, want %s", d, want)
	}
	layers, _ := got.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer after a restart: %v", err)
		}
		rc.Close()
	}
}

func TestBusyAddressIsAClearError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = registry.Serve(context.Background(), registry.Options{Addr: l.Addr().String(), Dir: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("serving on a busy address: %v, want an error naming --addr", err)
	}
}
