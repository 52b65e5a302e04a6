package image_test

import (
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/pyship/pyship/internal/image"
)

// failing is a transport that fails every request: what is served must come from the cache.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("the network is off")
}

func TestBaseFromARegistryOrATarballIsCachedByDigest(t *testing.T) {
	e := env(t)
	local, err := image.LoadBase(ctxT(t), e.Base, e.Cache)
	if err != nil {
		t.Fatal(err)
	}
	ref := e.Registry + "/test/pybase:" + local.Digest.Hex[:16]
	if err := remote.Write(must(name.ParseReference(ref)), local.Image, remote.WithContext(ctxT(t))); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	pulled, err := image.LoadBase(ctxT(t), ref, cache)
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Digest != local.Digest || pulled.Info.Python != "/usr/bin/python3.11" {
		t.Errorf("pulled base %s (Python %s), want %s", pulled.Digest, pulled.Info.Python, local.Digest)
	}
	// By digest, the cached copy serves without the network.
	again, err := image.LoadBase(ctxT(t), e.Registry+"/test/pybase@"+local.Digest.String(), cache, remote.WithTransport(failing{}))
	if err != nil {
		t.Fatalf("loading a cached base by digest without the network: %v", err)
	}
	if _, err := again.Image.Layers(); err != nil || again.Digest != local.Digest {
		t.Errorf("cached base: %v %s", err, again.Digest)
	}

	tarFile := filepath.Join(t.TempDir(), "base.tar")
	if err := tarball.WriteToFile(tarFile, must(name.NewTag("pybase:1")), local.Image); err != nil {
		t.Fatal(err)
	}
	fromTar, err := image.LoadBase(ctxT(t), tarFile, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fromTar.Info.PythonVersion != "3.11.2" {
		t.Errorf("tarball base: Python %q, want 3.11.2", fromTar.Info.PythonVersion)
	}
}

func TestLabelsComeFromGit(t *testing.T) {
	e := env(t)
	dir := copyApp(t, "stdlib")
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_DATE=1690000000 +0000", "GIT_COMMITTER_DATE=1690000000 +0000",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "init")
	git("remote", "add", "origin", "https://user:token@example.com/acme/app.git")
	rev := git("rev-parse", "HEAD")
	res, err := image.Build(ctxT(t), appPlan(t, "stdlib", dir), image.Options{CacheDir: e.Cache, Env: e.Env, Python: e.Python, Base: e.Base})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := res.Image.ConfigFile()
	l := cf.Config.Labels
	if l["org.opencontainers.image.revision"] != rev || l["org.opencontainers.image.source"] != "https://example.com/acme/app.git" {
		t.Errorf("labels %v, want revision %s and the remote without credentials", l, rev)
	}
	if !cf.Created.Time.Equal(time.Unix(1690000000, 0)) {
		t.Errorf("created %v, want the commit time", cf.Created)
	}
	// The Dockerfile sets the same labels, the per-commit ones as build arguments.
	df := image.Dockerfile(ctxT(t), appPlan(t, "stdlib", dir), "", time.Time{})
	for _, want := range []string{"ARG REVISION=" + rev, "ARG SOURCE=https://example.com/acme/app.git", "ARG CREATED=2023-07-22T04:26:40Z",
		"org.opencontainers.image.revision=${REVISION}", "org.opencontainers.image.source=${SOURCE}", "org.opencontainers.image.created=${CREATED}",
		"org.opencontainers.image.version=1.0.0", "org.opencontainers.image.title=stdlib-app"} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q:\n%s", want, df)
		}
	}
	if l["org.opencontainers.image.created"] != "2023-07-22T04:26:40Z" {
		t.Errorf("created label %q", l["org.opencontainers.image.created"])
	}
}

// flaky answers 503 to the first n blob uploads, then passes requests on.
type flaky struct {
	mu     sync.Mutex
	n      int
	failed int
}

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") && f.failed < f.n
	if fail {
		f.failed++
	}
	f.mu.Unlock()
	if fail {
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestPushRetriesServerErrors(t *testing.T) {
	e := env(t)
	dir := copyApp(t, "stdlib")
	// A new file makes a new app layer, so there is a blob to upload.
	if err := exec.Command("sh", "-c", "date +%s%N > "+filepath.Join(dir, "stamp.txt")).Run(); err != nil {
		t.Fatal(err)
	}
	res := build(t, appPlan(t, "stdlib", dir), "")
	f := &flaky{n: 2}
	ref, err := image.Push(ctxT(t), res, uniqueRepo(e.Registry, "flaky"), image.PushOptions{Transport: f})
	if err != nil {
		t.Fatalf("push through 2 server errors: %v", err)
	}
	if f.failed != 2 {
		t.Errorf("%d uploads failed, want 2", f.failed)
	}
	if _, err := remote.Image(must(name.ParseReference(ref))); err != nil {
		t.Errorf("pulling back %s: %v", ref, err)
	}
}
