package image_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/testsvc"
)

func TestDockerfileBuildsAWorkingImageWithPodman(t *testing.T) {
	e := env(t)
	pm := newPodman(t)
	// podman build needs the base in a registry.
	base, err := image.LoadBase(ctxT(t), e.Base, e.Cache)
	if err != nil {
		t.Fatal(err)
	}
	baseRef := e.Registry + "/test/pybase:" + base.Digest.Hex[:16]
	if err := remote.Write(must(name.ParseReference(baseRef)), base.Image, remote.WithContext(ctxT(t))); err != nil {
		t.Fatal(err)
	}
	dir := copyApp(t, "flask")
	// .dockerignore ships with pyship build, so it does with the Dockerfile; a secret does not.
	for name, text := range map[string]string{".dockerignore": "*.log\n", ".netrc": "machine x password y\n", "debug.log": "x\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := appPlan(t, "flask", dir)
	// A wheel folder of the project named in requirements.txt (--find-links ./wheels).
	writeWheel(t, filepath.Join(dir, "wheels"), "privpkg", "1.0")
	p.Dependencies.Requirements = append(p.Dependencies.Requirements, reqs("privpkg==1.0")...)
	p.Dependencies.PipOptions = []string{"--find-links", "./wheels"}
	df := image.Dockerfile(ctxT(t), p, "", time.Time{})
	for _, want := range []string{"ARG BASE=python:3.11-slim", "FROM ${BASE} AS deps", "'flask==2.2.2'", "USER 65532:65532", "EXPOSE 8000", "rm -rf '/src/data'", `VOLUME ["/app/data"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, df)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	wh := testsvc.Shared(t) + "/wheelhouse"
	tag := fmt.Sprintf("localhost/pyship-dockerfile-test:%d", time.Now().UnixNano())
	if out, err := pm.run(ctxT(t), "build", "--network", "host", "--tls-verify=false", "-v", wh+":/wheels:ro",
		"--build-arg", "BASE="+baseRef, "--build-arg", "PIP_NO_INDEX=1", "--build-arg", "PIP_FIND_LINKS=/wheels",
		"-t", tag, dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() { pm.run(context.Background(), "rmi", "-f", tag) })
	labels, err := pm.run(ctxT(t), "image", "inspect", "--format", "{{json .Labels}}", tag)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"org.opencontainers.image.created":"1970-01-01T00:00:00Z"`, `"org.opencontainers.image.version":"1.0.0"`, `"org.opencontainers.image.title":"flask-app"`} {
		if !strings.Contains(labels, want) {
			t.Errorf("the Dockerfile's image labels lack %s: %s", want, labels)
		}
	}
	port := testsvc.Port(t)
	id := pm.start(t, tag, port)
	if body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second); !strings.Contains(body, "hello from flask") {
		t.Errorf("the Dockerfile's image answered %q", body)
	}
	out, err := pm.run(ctxT(t), "exec", id, "sh", "-c", "id -u; ls -a /app; head -1 /opt/pyship/deps/bin/gunicorn; cat /opt/pyship/deps/privpkg/__init__.py; stat -c 'data:%u:%a' /app/data; ls -A /app/data | wc -l")
	if err != nil {
		t.Fatal(err)
	}
	// The data folder is there, empty (the project's data/ does not ship) and the app's user's.
	for _, want := range []string{"65532", "app.py", "__pycache__", ".dockerignore", "#!/usr/bin/python3", `VERSION = "1.0"`, "data:65532:755\n0"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Dockerfile's image: want %q in\n%s", want, out)
		}
	}
	for _, bad := range []string{".env", ".netrc", "debug.log"} {
		for _, l := range strings.Fields(out) {
			if l == bad {
				t.Errorf("the Dockerfile's image ships /app/%s", bad)
			}
		}
	}
}
