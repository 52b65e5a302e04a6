package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlanLocal: on the local target, plan --out builds the release and records the
// agent's state serial; apply deploys exactly that release (real agent, real Python app), and
// the same plan applied again, after the state moved, is refused as stale.
func TestSavedPlanLocal(t *testing.T) {
	e := newEnv(t)
	port := freeTCPPort(t)
	dir := t.TempDir()
	app, err := os.ReadFile("../local/testdata/stdlib/app.py")
	if err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("name = \"cliapp\"\nversion = \"1\"\n[run]\nkind = \"web\"\ncommand = \"python app.py\"\nport = %d\n[health]\npath = \"/healthz\"\n[deploy]\ntarget = \"local\"\nreplicas = 1\n", port)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), app, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
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
	if len(st) != 1 || st[0].Serial == 0 {
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
