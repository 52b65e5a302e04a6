package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/supervise"
)

// TestSavedPlanLocal: on the local target, plan --out builds the release and records the
// agent's state serial; apply deploys exactly that release (real agent, real Python app), and
// the same plan applied again, after the state moved, is refused as stale.
// localProject writes the stdlib test app with a spec deploying it locally; returns its
// folder and port.
func localProject(t *testing.T) (string, int) {
	t.Helper()
	port := freeTCPPort(t)
	dir := t.TempDir()
	app, err := os.ReadFile("../local/testdata/stdlib/app.py")
	if err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("name = \"cliapp\"\nversion = \"1\"\n[run]\nkind = \"web\"\ncommand = \"python app.py\"\nport = %d\n[health]\npath = \"/healthz\"\n[deploy]\ntarget = \"local\"\nreplicas = 1\n[env]\nMODE = \"ok\"\n", port)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), app, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, port
}

func TestSavedPlanLocal(t *testing.T) {
	e := newEnv(t)
	dir, port := localProject(t)
	first := filepath.Join(t.TempDir(), "first.plan")
	code, out, errs := e.run("plan", dir, "--out", first, "--python", e.py, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "replaces nothing deployed") {
		t.Fatalf("plan --out on the local target: exit %d, want 2\n%s\n%s", code, out, errs)
	}
	code, _, errs = e.run("apply", first, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1")
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	if status, body, err := getBody(fmt.Sprintf("http://127.0.0.1:%d/", port)); err != nil || status != 200 || !strings.Contains(body, "stdlib") {
		t.Errorf("the app after apply: %d %q %v", status, body, err)
	}
	st := e.status()
	if len(st) != 1 || st[0].Active == "" {
		t.Fatalf("status after apply: %+v", st)
	}

	// The first plan was made before that deploy: its serial is stale now.
	code, _, errs = e.run("apply", first, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1")
	if code != ExitFailure || !strings.Contains(errs, "is stale") || !strings.Contains(errs, "went from no agent running to state serial") {
		t.Errorf("apply of a stale local plan: exit %d\n%s", code, errs)
	}
	second := filepath.Join(t.TempDir(), "second.plan")
	if code, _, errs := e.run("plan", dir, "--out", second, "--python", e.py); code != ExitOK {
		t.Fatalf("second plan: exit %d\n%s", code, errs)
	}
	if code, _, errs := e.run("apply", second, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1"); code != ExitOK {
		t.Errorf("apply of a fresh local plan: exit %d\n%s", code, errs)
	}
}

// TestPlanDetailedExitcodeSyntaxError: a syntax error found while planning is listed once, as
// path:line:col, and exits 1 under --detailed-exitcode, with no second message.
func TestPlanDetailedExitcodeSyntaxError(t *testing.T) {
	e := newEnv(t)
	dir, _ := localProject(t)
	if err := os.WriteFile(filepath.Join(dir, "broken.py"), []byte("def f(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := e.run("plan", dir, "--python", e.py, "--detailed-exitcode")
	if code != ExitFailure || !strings.Contains(errs, "broken.py:1:") || strings.Contains(errs, "exit status") || out != "" {
		t.Errorf("plan --detailed-exitcode with a syntax error: exit %d, want 1\n%s\n%s", code, out, errs)
	}
}

// TestDriftLocal: on the local target, a process marked as a replica of this state folder that
// the agent does not know, and a replica whose environment differs from the recorded release,
// are listed; --reconcile ends the stranger and has the agent restart the replica.
func TestDriftLocal(t *testing.T) {
	e := newEnv(t)
	dir, _ := localProject(t)
	if code, _, errs := e.run("deploy", dir, "--python", e.py, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1"); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	if code, out, errs := e.run("drift", dir); code != ExitOK || !strings.Contains(errs, "no drift") {
		t.Fatalf("drift after the deploy: exit %d\n%s\n%s", code, out, errs)
	}

	// A stranger: a process carrying the replica marker of this home, unknown to the agent.
	stranger := exec.Command("sleep", "300")
	stranger.Env = append(os.Environ(), supervise.MarkerVar+"="+e.home+"|ghost")
	stranger.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = stranger.Wait(); close(exited) }()
	t.Cleanup(func() { _ = stranger.Process.Kill(); <-exited })
	// The recorded env of the stable release now says something else than the replica runs.
	st := e.status()
	mf := filepath.Join(e.home, "apps", "cliapp", "releases", st[0].Active, "release.json")
	b, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, []byte(strings.Replace(string(b), `"MODE": "ok"`, `"MODE": "recorded"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := e.run("drift", dir)
	if code != ExitFailure {
		t.Fatalf("drift: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		fmt.Sprintf("Process/%d changed outside the agent: replica ghost of this state folder, unknown to the agent", stranger.Process.Pid),
		`env MODE of pid`, `recorded "recorded", running "ok"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("drift lacks %q:\n%s", want, out)
		}
	}
	// Reconcile ends the stranger; the replica restarted from the (edited) record runs it.
	code, out, errs = e.run("drift", dir, "--reconcile")
	if code != ExitOK || !strings.Contains(errs, "no drift (after reconciling)") {
		t.Errorf("drift --reconcile: exit %d\n%s\n%s", code, out, errs)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Error("the stranger process still runs 10 s after --reconcile")
	}
}
