package image_test

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/pyship/pyship/internal/image"
)

// fakeBase writes a one-layer linux/amd64 image holding files (path -> content) into a layout.
func fakeBase(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return "oci-layout:" + dir
}

func TestBytecodeIsSkippedWithAWarningWhenPythonsDiffer(t *testing.T) {
	e := env(t)
	base := fakeBase(t, map[string]string{"usr/local/bin/python3.12": "", "bin/sh": ""})
	p := appPlan(t, "stdlib", copyApp(t, "stdlib"))
	p.Python.Version = "3.12"
	var mu sync.Mutex
	var warnings []string
	res, err := image.Build(ctxT(t), p, image.Options{CacheDir: t.TempDir(), Env: e.Env, Python: e.Python, Base: base, Progress: func(ev image.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Warning {
			warnings = append(warnings, ev.Message)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "skipping bytecode") || !strings.Contains(warnings[0], "3.12") {
		t.Errorf("warnings %q, want one about skipped bytecode naming 3.12", warnings)
	}
	layers, _ := res.Image.Layers()
	app, _ := layerFiles(t, layers[len(layers)-1])
	if app["app/server.py"] == nil {
		t.Errorf("app layer lacks server.py: %v", keys(app))
	}
	for name := range app {
		if strings.HasSuffix(name, ".pyc") {
			t.Errorf("bytecode for the wrong Python shipped: %s", name)
		}
	}
	cf, _ := res.Image.ConfigFile()
	if got := cf.Config.Cmd; len(got) != 2 || got[0] != "/usr/local/bin/python3.12" {
		t.Errorf("cmd %v: a command without $PORT runs without a shell, with the base's interpreter", got)
	}
}
