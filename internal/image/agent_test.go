package image_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/testsvc"
)

// staticPyship builds pyship as releases are built: static, so it runs in an image with no C library.
func staticPyship(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "pyship")
	cmd := exec.CommandContext(ctxT(t), "go", "build", "-trimpath", "-o", exe, "./cmd/pyship")
	cmd.Dir = testsvc.RepoRoot(t)
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static pyship: %v\n%s", err, out)
	}
	return exe
}

func TestAgentImageRunsPyshipAsNonRoot(t *testing.T) {
	e := env(t)
	exe := staticPyship(t)
	res, err := image.AgentImage(exe, image.AgentOptions{CACerts: []byte("# test bundle\n")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := image.AgentImage(exe, image.AgentOptions{CACerts: []byte("# test bundle\n")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != again.Digest {
		t.Errorf("the same binary gave two digests: %s and %s", res.Digest, again.Digest)
	}
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || cf.OS != "linux" || cf.Architecture != "amd64" || cf.Config.Entrypoint[0] != image.AgentBinary {
		t.Errorf("config: user %q, platform %s/%s, entrypoint %v", cf.Config.User, cf.OS, cf.Architecture, cf.Config.Entrypoint)
	}
	if !strings.HasPrefix(res.Tag, "agent-") {
		t.Errorf("tag %q", res.Tag)
	}

	ref, err := image.Push(ctxT(t), res, e.Registry+"/agent-test", image.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pm := newPodman(t)
	out, err := pm.run(ctxT(t), "run", "--rm", "--tls-verify=false", ref, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "pyship") {
		t.Errorf("pyship version in the agent image printed %q", out)
	}
	// The process runs as the image's non-root user: a file it creates in /tmp is its own.
	out, err = pm.run(ctxT(t), "run", "--rm", "--tls-verify=false", "--entrypoint", image.AgentBinary, ref, "backup", "keygen", "--identity-file", "/tmp/k")
	if err != nil {
		t.Fatalf("keygen in the agent image: %v", err)
	}
	if !strings.Contains(out, "age1") {
		t.Errorf("keygen printed %q, want an age public key", out)
	}
}

func TestAgentImageRefusesADynamicBinary(t *testing.T) {
	ls, err := exec.LookPath("ls") // dynamically linked on every Debian
	if err != nil {
		t.Skip("no ls")
	}
	_, err = image.AgentImage(ls, image.AgentOptions{Created: time.Unix(1, 0)})
	if !errors.Is(err, image.ErrNotStatic) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("got %v, want ErrNotStatic naming CGO_ENABLED=0", err)
	}
}
