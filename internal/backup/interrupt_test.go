package backup

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// privateS3 runs its own versitygw on a free port, so the test can kill it without
// disturbing other tests.
type privateS3 struct {
	s3env
	addr, dir string
	cmd       *exec.Cmd
}

func startPrivateS3(t *testing.T, shared s3env, dir, addr string) *privateS3 {
	t.Helper()
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		addr = l.Addr().String()
		l.Close()
	}
	p := &privateS3{s3env: shared, addr: addr, dir: dir}
	p.Endpoint, p.Data = "http://"+addr, dir
	must(t, os.MkdirAll(filepath.Join(dir, p.Bucket), 0o755))
	p.cmd = exec.Command(shared.Bin, "--port", addr, "posix", dir)
	p.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+p.Access, "ROOT_SECRET_KEY="+p.Secret)
	must(t, p.cmd.Start())
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("private versitygw on %s did not answer: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *privateS3) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func TestInterruptedUpload(t *testing.T) {
	shared := startS3(t)
	ctx := testCtx(t, 3*time.Minute)
	srv := startPrivateS3(t, shared, t.TempDir(), "")

	src := t.TempDir()
	writeFile(t, filepath.Join(src, "small"), []byte("first backup"), 0o644)
	cfg, ids := testConfig(t, srv.s3env, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.PartSize = 5 << 20
	c := newClient(t, cfg)
	first, err := c.Now(ctx, NowOptions{})
	must(t, err)

	// A big incompressible file, and a source that kills the server once parts are flowing.
	big := filepath.Join(src, "big")
	f, err := os.Create(big)
	must(t, err)
	rnd, err := os.Open("/dev/urandom")
	must(t, err)
	_, err = f.ReadFrom(io.LimitReader(rnd, 60<<20))
	must(t, err)
	must(t, f.Close())
	rnd.Close()

	var killed bool
	progressStore := &killAfterStore{Store: c.store, after: 2, kill: func() { killed = true; srv.kill() }}
	c2 := newClient(t, cfg, WithStore(progressStore))
	_, err = c2.Now(ctx, NowOptions{})
	if err == nil || !killed {
		t.Fatalf("backup with the server killed mid-upload: err=%v killed=%v; want an error", err, killed)
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %q does not say the storage is unreachable", err)
	}
	t.Logf("interrupted: %v", err)

	// Same data folder, server back: earlier backup and latest intact, stale upload aborted.
	srv = startPrivateS3(t, shared, srv.dir, srv.addr)
	c3 := newClient(t, cfg)
	l, err := c3.List(ctx)
	must(t, err)
	if len(l.Backups) != 1 || l.Backups[0].ID != first.ID || l.Latest != first.ID {
		t.Fatalf("after the interruption: backups %v latest %q; want only %s", ids0(l), l.Latest, first.ID)
	}
	s3c := c3.store.(*S3Store)
	if n := countUploads(t, ctx, s3c, c3.lay.root()); n == 0 {
		t.Log("server lost the incomplete upload on restart; nothing to abort")
	}
	second, err := c3.Now(ctx, NowOptions{})
	must(t, err)
	if n := countUploads(t, ctx, s3c, c3.lay.root()); n != 0 {
		t.Fatalf("%d incomplete uploads remain after the next backup", n)
	}
	_, err = c3.Verify(ctx, first.ID, ids)
	must(t, err)
	_, err = c3.Verify(ctx, second.ID, ids)
	must(t, err)
	if l, _ := c3.List(ctx); l.Latest != second.ID {
		t.Fatalf("latest = %q, want %s", l.Latest, second.ID)
	}
}

func ids0(l *Listing) []string {
	var out []string
	for _, m := range l.Backups {
		out = append(out, m.ID)
	}
	return out
}

func countUploads(t *testing.T, ctx context.Context, s *S3Store, prefix string) int {
	t.Helper()
	n := 0
	for u := range s.core.Client.ListIncompleteUploads(ctx, s.bucket, prefix, true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		n++
	}
	return n
}

// killAfterStore kills the server after the given number of part-buffer writes have gone
// through the upload (observed by bytes written to the object writer).
type killAfterStore struct {
	Store
	after int
	kill  func()
}

func (k *killAfterStore) Create(ctx context.Context, key string) (ObjectWriter, error) {
	w, err := k.Store.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return &killAfterWriter{ObjectWriter: w, limit: int64(k.after) * (5 << 20), kill: k.kill}, nil
}

type killAfterWriter struct {
	ObjectWriter
	n, limit int64
	kill     func()
	done     bool
}

func (w *killAfterWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if !w.done && w.n > w.limit {
		w.done = true
		w.kill()
	}
	return w.ObjectWriter.Write(p)
}
