package cli

import (
	"strconv"
	"strings"
	"testing"
)

// deploy --strategy recreate on the local target: a release that fails is rolled back, and the
// command says that nothing served in either direction.
func TestRecreateDeploySaysItsDowntime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if code, _, errs := e.deploy(e.project("v1", "", "rolling", port, nil), "--strategy", "recreate"); code != 0 || !strings.Contains(errs, "with the recreate strategy") {
		t.Fatalf("deploy v1 --strategy recreate: exit %d\n%s", code, errs)
	}
	code, _, errs := e.deploy(e.project("v2", "crash", "rolling", port, nil), "--strategy", "recreate")
	if want := "deploy of r2 failed and was rolled back (the reason is above)\nrecreate: cliapp served nothing while r2 started, nor while r1 restarted"; code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("deploy of the crashing v2: exit %d, want 1 and %q\n%s", code, want, errs)
	}
	if !strings.Contains(errs, "stopping 2 replica(s) of r1 before starting r2") || !strings.Contains(errs, "stopping r2 before restarting r1") {
		t.Errorf("the deploy does not say that r1 stopped before r2 started and r2 before r1 restarted:\n%s", errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Errorf("after the rollback the app answers %q, want stdlib v1", body)
	}
}
