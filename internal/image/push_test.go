package image_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pyship/pyship/internal/image"
)

// recorder is an http.RoundTripper that records the requests going to the registry.
type recorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD path?query"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) reset() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// uploaded lists the digests of blobs whose upload finished (PUT ...?digest=).
func uploaded(reqs []string) []string {
	var ds []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "PUT ") && strings.Contains(r, "/blobs/uploads/") {
			if _, d, ok := strings.Cut(r, "digest="); ok {
				d, _, _ = strings.Cut(d, "&")
				ds = append(ds, strings.Replace(d, "%3A", ":", 1))
			}
		}
	}
	return ds
}

func uniqueRepo(reg, name string) string {
	return fmt.Sprintf("%s/test/%s-%d", reg, name, time.Now().UnixNano())
}

func TestPushAfterOneFileChangeUploadsOnlyTheAppLayer(t *testing.T) {
	e := env(t)
	dir := copyApp(t, "flask")
	p := appPlan(t, "flask", dir)
	repo := uniqueRepo(e.Registry, "flask")
	rec := &recorder{}
	first := build(t, p, "")
	var mu sync.Mutex
	var inflight []image.Event
	ref, err := image.Push(ctxT(t), first, repo, image.PushOptions{Transport: rec, Progress: func(e image.Event) {
		if e.Total > 0 {
			mu.Lock()
			inflight = append(inflight, e)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Uploads report their bytes as they go, up to everything that had to be sent.
	if len(inflight) == 0 {
		t.Fatal("a push of new layers reported no upload progress")
	}
	for i := 1; i < len(inflight); i++ {
		if inflight[i].Bytes < inflight[i-1].Bytes {
			t.Errorf("upload progress went back: %d after %d", inflight[i].Bytes, inflight[i-1].Bytes)
		}
	}
	lastUp := inflight[len(inflight)-1]
	depsSize, _ := must(first.Image.LayerByDigest(first.Deps)).Size()
	if lastUp.Bytes != lastUp.Total || lastUp.Total < depsSize {
		t.Errorf("last upload progress %d of %d bytes; want all of it, at least the deps layer's %d", lastUp.Bytes, lastUp.Total, depsSize)
	}
	if want := repo + ":1.0.0@" + first.Digest.String(); ref != want {
		t.Errorf("push returned %q, want %q", ref, want)
	}
	// The image and its SBOM referrer are in the registry.
	if _, err := remote.Image(must(name.ParseReference(ref))); err != nil {
		t.Fatalf("pulling back %s: %v", ref, err)
	}
	idx, err := remote.Referrers(must(name.NewDigest(repo + "@" + first.Digest.String())))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 1 || m.Manifests[0].ArtifactType != image.SPDXMediaType {
		t.Errorf("referrers of the image: %+v, want one SPDX SBOM", m.Manifests)
	}
	// What gitops push records in an env folder's provenance.
	if sd, err := image.SBOMDigest(ctxT(t), ref, nil); err != nil || len(m.Manifests) != 1 || sd != m.Manifests[0].Digest.String() {
		t.Errorf("SBOMDigest(%s) = %q, %v", ref, sd, err)
	}
	rec.reset()

	// A no-op push only asks what is there.
	if _, err := image.Push(ctxT(t), first, repo, image.PushOptions{Transport: rec}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.reset() {
		if !strings.HasPrefix(r, "HEAD ") && r != "GET /v2/?" {
			t.Errorf("a push of an unchanged image sent %s", r)
		}
	}

	if err := os.WriteFile(filepath.Join(dir, "app.py"), append(must(os.ReadFile(filepath.Join(dir, "app.py"))), []byte("\n# changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	second := build(t, p, "")
	if !second.DepsCached {
		t.Error("a one-file change reinstalled the dependencies")
	}
	l1, _ := first.Image.Layers()
	l2, _ := second.Image.Layers()
	for i := range l1 {
		d1, _ := l1[i].Digest()
		d2, _ := l2[i].Digest()
		if (d1 != d2) != (i == len(l1)-1) {
			t.Errorf("layer %d: %s then %s; only the last (app) layer may change", i, d1, d2)
		}
	}
	if _, err := image.Push(ctxT(t), second, repo, image.PushOptions{Transport: rec}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := second.Image.ConfigName()
	for _, d := range uploaded(rec.reset()) {
		if d != second.App.String() && d != cfg.String() && !isSBOMBlob(t, second, d) {
			t.Errorf("after a one-file change the push uploaded %s (app layer %s, deps %s)", d, second.App, second.Deps)
		}
	}
}

func isSBOMBlob(t *testing.T, res *image.Result, d string) bool {
	// The SBOM names the image digest, so its artifact's two blobs are new on every change.
	return !strings.Contains(d, res.Deps.Hex) && !layerOf(t, res, d)
}

func layerOf(t *testing.T, res *image.Result, d string) bool {
	ls, _ := res.Image.Layers()
	for _, l := range ls {
		ld, _ := l.Digest()
		if ld.String() == d {
			return true
		}
	}
	return false
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
