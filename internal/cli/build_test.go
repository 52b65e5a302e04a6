package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/registry"
	"github.com/pyship/pyship/internal/testsvc"
)

// runIn runs pyship with args in the environment env and returns its exit code, stdout and
// stderr.
func runIn(t *testing.T, ctx context.Context, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(ctx, args, env, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// runCtx runs pyship with args in the test process's environment.
func runCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, ctx, os.Environ(), args...)
}

// runCtx runs pyship with args in e.
func (e cliEnv) runCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, ctx, e, args...)
}

// buildFixture writes the plan of testdata/flask and returns it with the base and the
// environment builds run in: pip with the wheelhouse as its only index, SOURCE_DATE_EPOCH set.
func buildFixture(t *testing.T) (planFile, base string, env cliEnv) {
	t.Helper()
	b := testsvc.Start(t, "pybase")
	py := testsvc.Start(t, "python")
	env = testEnv("PIP_NO_INDEX=1", "PIP_FIND_LINKS="+py["PYSHIP_TEST_WHEELHOUSE"], "SOURCE_DATE_EPOCH=1700000000")
	dir, _ := filepath.Abs("testdata/flask")
	p := plan.Plan{SchemaVersion: 1, Dir: dir, Name: "flask-app", Version: "1.0.0", Python: plan.Python{Version: "3.11"},
		Dependencies: plan.Dependencies{Kind: "requirements", Requirements: []plan.Requirement{{Name: "flask", Spec: "flask==2.2.2"}, {Name: "gunicorn", Spec: "gunicorn==20.1.0"}}},
		Run:          plan.Run{Command: []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "app:app"}, Kind: "web", Port: 8000}}
	planFile = filepath.Join(t.TempDir(), "plan.json")
	bs, _ := json.Marshal(p)
	if err := os.WriteFile(planFile, bs, 0o644); err != nil {
		t.Fatal(err)
	}
	return planFile, b["PYSHIP_TEST_BASE"], env
}

var refWithDigest = regexp.MustCompile(`^\S+@sha256:[0-9a-f]{64}$`)

func TestBuildWritesEveryOutputAndPrintsTheReference(t *testing.T) {
	planFile, base, env := buildFixture(t)
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, stdout, stderr := env.runCtx(t, ctx, "build", "--plan", planFile, "--base", base, "--registry", reg+"/clitest",
		"--oci-layout", filepath.Join(out, "oci"), "--tar", filepath.Join(out, "img.tar"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	ref := strings.TrimSpace(stdout)
	if !refWithDigest.MatchString(ref) || !strings.HasPrefix(ref, reg+"/clitest/flask-app:1.0.0@") {
		t.Errorf("stdout %q, want the pushed reference with its digest", stdout)
	}
	for _, want := range []string{"deps ", "app ", "push ", "layout ", "tar "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress on stderr lacks %q:\n%s", want, stderr)
		}
	}
	digest := ref[strings.Index(ref, "@")+1:]

	// The tarball is loadable by podman.
	pm := testsvc.Start(t, "podman")
	argv := strings.Fields(pm["PYSHIP_TEST_PODMAN"])
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "load", "-i", filepath.Join(out, "img.tar"))...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+pm["CONTAINERS_CONF"], "CONTAINERS_REGISTRIES_CONF="+pm["CONTAINERS_REGISTRIES_CONF"])
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "clitest/flask-app:1.0.0") {
		t.Errorf("podman load: %v\n%s", err, b)
	}

	// The SBOM of the image in the layout lists its packages.
	code, stdout, stderr = env.runCtx(t, ctx, "sbom", "oci-layout:"+filepath.Join(out, "oci")+":flask-app:1.0.0")
	if code != 0 || !strings.Contains(stdout, "pkg:pypi/flask@2.2.2") || !strings.Contains(stdout, digest) {
		t.Errorf("sbom: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// JSON output for machines; the same input gives the same digest.
	code, stdout, stderr = env.runCtx(t, ctx, "build", "--plan", planFile, "--base", base, "--oci-layout", filepath.Join(out, "oci2"), "--output", "json")
	var res platform.Image
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("build -o json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if res.Digest != digest || !res.DepsCached {
		t.Errorf("second build: digest %s (want %s), deps cached %v", res.Digest, digest, res.DepsCached)
	}
}

func TestRegistryServeIsTheDefaultPushTarget(t *testing.T) {
	planFile, base, env := buildFixture(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		code, _, _ := env.runCtx(t, srvCtx, "registry", "serve", "--addr", addr, "--dir", t.TempDir())
		done <- code
	}()
	testsvc.Eventually(t, 10*time.Second, "pyship registry serve to answer", func() error {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	code, stdout, stderr := env.runCtx(t, ctx, "build", "--plan", planFile, "--base", base, "--push", "--registry", addr)
	if code != 0 || !strings.HasPrefix(stdout, addr+"/flask-app:1.0.0@sha256:") {
		t.Errorf("build --push: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stop()
	if code := <-done; code != 0 {
		t.Errorf("registry serve exited %d after its context ended", code)
	}
}

func TestBuildErrorsExitCodes(t *testing.T) {
	t.Parallel()
	planFile, base, env := buildFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code, _, stderr := env.runCtx(t, ctx, "build", "--plan", planFile, "--output", "yaml"); code != ExitUsage || !strings.Contains(stderr, "--output") {
		t.Errorf("bad --output: exit %d, %s", code, stderr)
	}
	if code, _, stderr := env.runCtx(t, ctx, "build", "--plan", planFile, "--base", "oci-layout:/nonexistent", "--oci-layout", t.TempDir()); code != ExitFailure || !strings.Contains(stderr, "loading the base image") {
		t.Errorf("bad base: exit %d, %s", code, stderr)
	}
	if code, _, stderr := env.runCtx(t, ctx, "build", "--plan", planFile, "--base", base, "--registry", "127.0.0.1:1/x"); code != ExitFailure || !strings.Contains(stderr, "cannot be reached") {
		t.Errorf("unreachable registry: exit %d, %s", code, stderr)
	}
	if code, stdout, _ := env.runCtx(t, ctx, "dockerfile", "--plan", planFile); code != 0 || !strings.Contains(stdout, "FROM ${BASE} AS deps") {
		t.Errorf("dockerfile: exit %d\n%s", code, stdout)
	}
}

// An app with a syntax error is refused by every command that builds it, before anything is
// built, with each error as path:line:col; the same app fixed builds.
func TestBuildAndDockerfileRefuseSyntaxErrors(t *testing.T) {
	t.Parallel()
	_, base, env := buildFixture(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile := func(rel, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("main.py", "import pkg.broken\nprint('worker started')\n")
	writeFile("pkg/__init__.py", "")
	writeFile("pkg/broken.py", "x = 1\ndef f(:\n    pass\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	layout := filepath.Join(t.TempDir(), "oci")
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"build", dir, "--base", base, "--oci-layout", layout}, "not building: 1 syntax error(s)"},
		{[]string{"dockerfile", dir}, "not writing a Dockerfile: 1 syntax error(s)"},
		{[]string{"sbom", dir, "--base", base}, "not building: 1 syntax error(s)"},
	} {
		args := tc.args
		code, stdout, stderr := env.runCtx(t, ctx, args...)
		if code != ExitFailure || !strings.Contains(stderr, "pkg/broken.py:2:7: invalid syntax\n") || !strings.Contains(stderr, tc.says) {
			t.Errorf("%s of an app with a syntax error: exit %d, want %d with pkg/broken.py:2:7 and %q on stderr\nstdout: %s\nstderr: %s", args[0], code, ExitFailure, tc.says, stdout, stderr)
		}
		if args[0] == "build" {
			if _, err := os.Stat(layout); err == nil {
				t.Errorf("build wrote %s although the app does not compile", layout)
			}
		}
	}
	writeFile("pkg/broken.py", "x = 1\ndef f():\n    pass\n")
	if code, stdout, stderr := env.runCtx(t, ctx, "build", dir, "--base", base, "--oci-layout", layout); code != 0 || !strings.HasPrefix(stdout, "oci-layout:") {
		t.Errorf("build of the fixed app: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// With no registry configured, build --push starts pyship's own registry on its default
// address when nothing answers there (as deploy starts the agent), and pushes to it.
func TestBuildStartsTheDefaultRegistry(t *testing.T) {
	if registry.Answers(context.Background(), registry.DefaultAddr) {
		t.Skipf("something already answers on %s, pyship's default registry address: the start cannot be tested here", registry.DefaultAddr)
	}
	planFile, base, env := buildFixture(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pyshipBin(t), "build", "--plan", planFile, "--base", base, "--push")
	cmd.Env = env.with("PYSHIP_DATA=" + data)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	t.Cleanup(func() { // the registry keeps running by design: end it
		cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, f := range cmdlines {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), "\x00registry\x00serve\x00") && strings.Contains(string(b), data) {
				pid, _ := strconv.Atoi(strings.Split(f, "/")[2])
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	if err != nil || !strings.Contains(errb.String(), "started pyship's registry on "+registry.DefaultAddr) ||
		!strings.HasPrefix(out.String(), registry.DefaultAddr+"/flask-app:1.0.0@sha256:") {
		t.Fatalf("build --push with no registry: %v\nstdout %s\nstderr %s", err, out.String(), errb.String())
	}
	if !registry.Answers(ctx, registry.DefaultAddr) {
		t.Errorf("the started registry does not answer after the build")
	}
}
