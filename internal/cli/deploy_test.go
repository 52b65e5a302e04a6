package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

func TestDeployLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	hook, sent := webhookServer(t)
	secrets := filepath.Join(t.TempDir(), "prod.env")
	os.WriteFile(secrets, []byte("# secrets\nSECRET_TOKEN='s3cr3t-value'\n"), 0o600)
	edit := func(p *plan.Plan) {
		p.Env["GREETING"] = "hello"
		p.Env["PRINT_SECRET"] = "1"
		p.SecretsFile = secrets
		p.Data = []plan.DataFolder{{Path: "data", Persistent: true}}
		p.NotifyWebhook = hook.URL
	}
	code, out, errs := e.deploy(e.project("v1", "", "blue-green", port, edit))
	if code != 0 || strings.TrimSpace(out) != url {
		t.Fatalf("deploy v1: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Fatalf("v1 answers %q", body)
	}
	_, envBody, _ := getBody(url + "env")
	for _, want := range []string{"GREETING=hello", "SECRET_TOKEN=s3cr3t-value", "PYSHIP_DATA_DIR=" + filepath.Join(e.home, "apps", "cliapp", "data")} {
		if !strings.Contains(envBody, want) {
			t.Errorf("the app's environment lacks %s:\n%s", want, envBody)
		}
	}
	if _, n, _ := getBody(url + "data"); n != "1" {
		t.Errorf("first visit counter = %q, want 1", n)
	}
	st := e.status()
	if len(st) != 1 || st[0].Active != "r1" || len(st[0].Releases) != 1 || st[0].Releases[0].Replicas != 2 {
		t.Fatalf("status after v1: %+v", st)
	}
	_, text, _ := e.run("status")
	_, logs, _ := e.run("logs")
	for name, s := range map[string]string{"status": text, "logs": logs, "deploy output": errs} {
		if strings.Contains(s, "s3cr3t-value") {
			t.Errorf("%s shows the secret:\n%s", name, s)
		}
	}
	if !strings.Contains(text, "RELEASE") || !strings.Contains(text, "2/2 ready") {
		t.Errorf("status text:\n%s", text)
	}
	if !strings.Contains(logs, "careless log line: token=[secret]") {
		t.Errorf("logs do not mask the secret the app printed:\n%s", logs)
	}
	if !strings.Contains(logs, "stdlib v1 listening on") {
		t.Errorf("logs lack the app's start line:\n%s", logs)
	}

	code, _, errs = e.deploy(e.project("v2", "", "blue-green", port, edit))
	if code != 0 {
		t.Fatalf("deploy v2: exit %d\n%s", code, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v2" {
		t.Errorf("after deploying v2 the app answers %q", body)
	}
	if _, n, _ := getBody(url + "data"); n != "2" {
		t.Errorf("visit counter after a deploy = %q, want 2: data must survive deploys", n)
	}

	start := time.Now()
	code, _, errs = e.run("rollback")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Errorf("after rollback the app answers %q", body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("rollback to the warm set took %s", d)
	}
	if code, _, errs := e.run("rollback", "r1"); code != 1 || !strings.Contains(errs, "r1 is already the stable release") {
		t.Errorf("rollback to the stable release: exit %d, %s", code, errs)
	}
	if _, n, _ := getBody(url + "data"); n != "3" {
		t.Errorf("visit counter after rollback = %q, want 3", n)
	}

	code, _, errs = e.deploy(e.project("v3", "crash", "blue-green", port, edit))
	if code != 1 || !strings.Contains(errs, "exited with status 3") || !strings.Contains(errs, "boom: DATABASE_URL is not set") {
		t.Errorf("broken deploy: exit %d, stderr:\n%s", code, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Errorf("after the failed deploy the app answers %q", body)
	}
	texts := strings.Join(sent(), "\n")
	for _, want := range []string{"r1 (version v1) deployed", "r2 (version v2) deployed", "rolled back to r1", "deploy of cliapp r3 (version v3) failed"} {
		if !strings.Contains(texts, want) {
			t.Errorf("webhook messages lack %q:\n%s", want, texts)
		}
	}

	if code, out, errs := e.run("stop"); code != 0 || !strings.Contains(out, "stopped cliapp") {
		t.Fatalf("stop: exit %d %s %s", code, out, errs)
	}
	if m := supervise.Marked(e.home); len(m) != 0 {
		t.Errorf("processes left after stop: %v", m)
	}
	if _, _, err := getBody(url); err == nil {
		t.Error("the app still answers after stop")
	}
	if code, _, errs := e.run("destroy"); code != 0 {
		t.Fatalf("destroy: exit %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(e.home, "apps", "cliapp", "releases")); !os.IsNotExist(err) {
		t.Error("destroy left the releases")
	}
	if b, err := os.ReadFile(filepath.Join(e.home, "apps", "cliapp", "data", "data", "visits")); err != nil || string(b) != "3" {
		t.Errorf("destroy must keep data: %q %v", b, err)
	}
}

func TestAgentKill9MidDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if code, _, errs := e.deploy(e.project("v1", "", "blue-green", port, nil)); code != 0 {
		t.Fatalf("deploy v1: %s", errs)
	}
	p := poll(url)
	defer p.stop()
	// A deploy whose replicas take long to start, interrupted by kill -9 of the agent.
	cmd := e.startDeploy(e.project("v2-interrupted", "slowstart", "blue-green", port, nil), nil)
	b, _ := os.ReadFile(filepath.Join(e.home, "agent.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the agent %d: %v", pid, err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("the interrupted deploy exited 0")
	}
	p.served(t, 50) // with no agent running
	code, _, errs := e.deploy(e.project("v3", "", "blue-green", port, nil))
	if code != 0 {
		t.Fatalf("deploy after kill -9: exit %d\n%s", code, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v3" {
		t.Errorf("after converging the app answers %q", body)
	}
	p.stop()
	// The proxy process outlives the agent: the public port serves throughout.
	if n := p.failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed while the agent was killed and restarted", n, n+p.ok.Load())
	}
	p.mu.Lock()
	if p.bodies["stdlib v2-interrupted"] > 0 {
		t.Errorf("the interrupted release served %d requests", p.bodies["stdlib v2-interrupted"])
	}
	if p.bodies["stdlib v1"] == 0 {
		t.Error("v1 served nothing during the test")
	}
	p.mu.Unlock()
	// No orphans: every marked process is a replica the agent knows, all of the new release.
	st := e.status()
	known := map[string]bool{}
	for _, r := range st[0].Releases {
		for _, rep := range r.Instances {
			known[rep.ID] = true
			if r.ID == "r2" {
				t.Errorf("replica %s of the interrupted release still runs", rep.ID)
			}
		}
	}
	testsvc.Eventually(t, 15*time.Second, "no orphan processes", func() error {
		var orphans []string
		for _, id := range supervise.Marked(e.home) {
			if !known[id] {
				orphans = append(orphans, id)
			}
		}
		if len(orphans) > 0 {
			return fmt.Errorf("orphan processes: %v", orphans)
		}
		return nil
	})
	if n := proxyProcesses(e.home); n != 1 {
		t.Errorf("%d proxy processes run for the app, want 1", n)
	}
	if len(st[0].Releases) == 0 || st[0].Releases[0].ID != "r3" || st[0].Releases[0].Replicas != 2 {
		t.Errorf("want 2 replicas of r3 (and v1's warm set): %+v", st[0].Releases)
	}
}

func TestDeployBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	if code, _, errs := e.deploy(bad); code != 2 || !strings.Contains(errs, "not valid plan JSON") {
		t.Errorf("bad plan: exit %d, %s", code, errs)
	}
	port := freeTCPPort(t)
	noCmd := e.project("v1", "", "rolling", port, func(p *plan.Plan) { p.Run.Command = nil; p.Deploy.Strategy = "yolo" })
	if code, _, errs := e.deploy(noCmd); code != 2 || !strings.Contains(errs, "no start command") || !strings.Contains(errs, `unknown deploy strategy "yolo"`) {
		t.Errorf("plan without command: exit %d, %s", code, errs)
	}
	if code, _, errs := e.run("status"); code != 1 || !strings.Contains(errs, "no pyship agent is running") {
		t.Errorf("status without agent: exit %d, %s", code, errs)
	}
	// No python3 on PATH.
	cmd := exec.Command(pyshipBin(t), "deploy", "--plan", e.project("v1", "", "rolling", port, nil))
	cmd.Env = []string{"PYSHIP_HOME=" + e.home, "PATH=/nonexistent", "HOME=" + e.home}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "no python 3 interpreter found") || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("without python: exit %d, %s", cmd.ProcessState.ExitCode(), out)
	}
	// Port taken by another program.
	ln, err := netListen(port)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.deploy(e.project("v1", "", "rolling", port, nil))
	ln.Close()
	if code != 1 || !strings.Contains(errs, "port "+strconv.Itoa(port)+" is already in use") {
		t.Errorf("port taken: exit %d, %s", code, errs)
	}
	// An unreachable webhook warns but does not fail the deploy.
	dead := "http://127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	code, _, errs = e.deploy(e.project("v1", "", "rolling", port, func(p *plan.Plan) { p.NotifyWebhook = dead + "/hook" }))
	if code != 0 || !strings.Contains(errs, "warning: notifying the webhook "+dead+"/… failed") {
		t.Errorf("unreachable webhook: exit %d, %s", code, errs)
	}
}

// After kill -9 the restarted agent adopts the running replicas and serves the last promoted
// release without a deploy.
func TestAgentRestartAdoptsReplicas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if code, _, errs := e.deploy(e.project("v1", "", "rolling", port, nil)); code != 0 {
		t.Fatalf("deploy v1: %s", errs)
	}
	pids := func() map[string]int {
		out := map[string]int{}
		for _, r := range e.status()[0].Releases {
			for _, rep := range r.Instances {
				out[rep.ID] = rep.PID
			}
		}
		return out
	}
	before := pids()
	p := poll(url)
	defer p.stop()
	b, _ := os.ReadFile(filepath.Join(e.home, "agent.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 10*time.Second, "the killed agent to end", func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("agent %d still runs", pid)
		}
		return nil
	})
	p.served(t, 50) // with no agent running
	agentCmd := exec.Command(pyshipBin(t), "agent", "--home", e.home, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1")
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	testsvc.Eventually(t, 20*time.Second, "the restarted agent to answer and take both replicas back", func() error {
		if code, _, stderr := e.run("status"); code != 0 {
			return fmt.Errorf("status: exit %d: %s", code, stderr)
		}
		if n := len(pids()); n != 2 {
			return fmt.Errorf("%d replicas", n)
		}
		return nil
	})
	if code, body, err := getBody(url); err != nil || code != 200 || body != "stdlib v1" {
		t.Errorf("the restarted agent serves %d %q %v, want stdlib v1", code, body, err)
	}
	if after := pids(); len(after) != 2 || !reflect.DeepEqual(after, before) {
		t.Errorf("replicas before %v, after %v: want the same processes adopted", before, after)
	}
	p.stop()
	if n := p.failed.Load(); n != 0 || p.ok.Load() == 0 {
		t.Errorf("%d requests failed and %d succeeded while the agent was dead and restarting: the proxy process must serve throughout", n, p.ok.Load())
	}
}

// A plain rollback returns to the last release that was deployed successfully, never to one
// whose deploy failed and was rolled back.
func TestRollbackSkipsFailedRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if code, _, errs := e.deploy(e.project("v1", "", "rolling", port, nil)); code != 0 {
		t.Fatalf("deploy v1: exit %d\n%s", code, errs)
	}
	if code, _, errs := e.deploy(e.project("v2", "crash", "rolling", port, nil)); code != 1 {
		t.Fatalf("deploy of the crashing v2: exit %d, want 1\n%s", code, errs)
	} else if n := strings.Count(errs, "of r2 failed:"); n != 1 || !strings.Contains(errs, "deploy of r2 failed and was rolled back (the reason is above)") {
		t.Errorf("the crashing v2's diagnosis is said %d times, want once, then referred to:\n%s", n, errs)
	}
	if code, _, errs := e.deploy(e.project("v3", "", "rolling", port, nil)); code != 0 {
		t.Fatalf("deploy v3: exit %d\n%s", code, errs)
	}
	code, _, errs := e.run("rollback")
	if code != 0 || !strings.Contains(errs, "rolling cliapp back to r1") {
		t.Fatalf("rollback: exit %d, want a rollback to r1 (r2 failed)\n%s", code, errs)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Errorf("after rollback the app answers %q, want stdlib v1", body)
	}
	if st := e.status(); len(st) != 1 || st[0].Active != "r1" {
		t.Errorf("stable after rollback: %+v", st)
	}
	if code, _, errs := e.run("rollback"); code != 1 || !strings.Contains(errs, "no successfully deployed release before the stable one") {
		t.Errorf("rollback from the first release: exit %d\n%s", code, errs)
	}
	// Naming the failed release is refused unless --force; an unknown one lists the releases.
	if code, _, errs := e.run("rollback", "r2"); code != 1 || !strings.Contains(errs, "release r2 of cliapp was never promoted") {
		t.Errorf("rollback r2 (failed): exit %d\n%s", code, errs)
	}
	if code, _, errs := e.run("rollback", "r7"); code != 1 || !strings.Contains(errs, "cliapp has no release r7; its releases are: r1 (stable), r2 (never promoted), r3") {
		t.Errorf("rollback r7: exit %d\n%s", code, errs)
	}
}

// With two apps deployed, a verb run in an app's folder (or a subfolder of it) acts on that
// app (pyship's own hints say `run pyship abort`); --app still wins, a folder of an app that is not deployed is named,
// and outside any project the choice is asked for.
func TestVerbsActOnTheProjectInTheirFolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.project("v1", "", "rolling", freeTCPPort(t), func(p *plan.Plan) { p.Name = "otherapp" })
	for _, pf := range []string{e.project("v1", "", "rolling", freeTCPPort(t), nil), other} {
		if code, _, errs := e.deploy(pf); code != 0 {
			t.Fatalf("deploy %s: exit %d\n%s", pf, code, errs)
		}
	}
	folder := func(name string) string {
		dir := testsvc.WriteTree(t, map[string]string{"pyship.toml": "name = \"" + name + "\"\n[run]\ncommand = \"python app.py\"\n", "app.py": "print(1)\n"})
		return dir
	}
	if code, _, errs := e.run("stop"); code != 2 || !strings.Contains(errs, "several apps are deployed (cliapp, otherapp): run the command in the app's folder, or choose one with --app") {
		t.Errorf("stop outside any project: exit %d\n%s", code, errs)
	}
	// In a subfolder of the project too, as git finds its repository.
	sub := filepath.Join(folder("otherapp"), "src", "pkg")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := e.runIn(sub, "stop")
	if code != 0 || !strings.Contains(out, "stopped otherapp") {
		t.Fatalf("stop in a subfolder of otherapp's folder: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := e.runIn(folder("ghost"), "stop"); code != 1 || !strings.Contains(errs, "ghost, the project in this folder, is not deployed") || !strings.Contains(errs, "cliapp, otherapp") {
		t.Errorf("stop in a folder of an app never deployed: exit %d\n%s", code, errs)
	}
	// -o json as in every verb: the result, or the error, as a JSON object on stdout.
	code, out, errs = e.runIn(folder("ghost"), "stop", "--app", "cliapp", "-o", "json")
	var res actionResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.App != "cliapp" || !strings.Contains(res.Message, "stopped cliapp") {
		t.Errorf("stop --app cliapp -o json in another folder: exit %d, %v\n%s%s", code, err, out, errs)
	}
	code, out, _ = e.run("abort", "-o", "json")
	var je jsonError
	if err := json.Unmarshal([]byte(out), &je); err != nil || code != 2 || je.ExitCode != 2 || !strings.Contains(je.Error, "several apps are deployed") {
		t.Errorf("abort -o json outside any project: exit %d, %v\n%s", code, err, out)
	}
}

// abort, promote, logs, stop, destroy and rollback take the project's folder as DIR, as deploy
// and plan do: run outside any project with two apps deployed, DIR chooses the app (and its
// spec the target), and --app still overrides it. One argument of rollback is DIR when it
// names a folder, else RELEASE.
func TestVerbsActOnTheProjectInDIR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.project("v1", "", "rolling", freeTCPPort(t), func(p *plan.Plan) { p.Name = "otherapp" })
	port := freeTCPPort(t)
	for _, pf := range []string{e.project("v1", "", "rolling", port, nil), e.project("v2", "", "rolling", port, nil), other} {
		if code, _, errs := e.deploy(pf); code != 0 {
			t.Fatalf("deploy %s: exit %d\n%s", pf, code, errs)
		}
	}
	folder := func(name string) string {
		return testsvc.WriteTree(t, map[string]string{"pyship.toml": "name = \"" + name + "\"\n[run]\ncommand = \"python app.py\"\n", "app.py": "print(1)\n"})
	}
	cliapp, otherapp, ghost, nowhere := folder("cliapp"), folder("otherapp"), folder("ghost"), t.TempDir()
	for _, c := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"logs", "--release", "r2", cliapp}, 0, "", ""},
		{[]string{"logs", "--release", "r2", otherapp}, 1, "", "r2"}, // otherapp has r1 only
		{[]string{"status", "-o", "json", otherapp}, 0, `"app": "otherapp"`, ""},
		{[]string{"promote", cliapp}, 1, "", "cliapp"},
		{[]string{"abort", "-o", "json", otherapp}, 1, "otherapp", ""},
		{[]string{"rollback", cliapp}, 0, "cliapp rolled back: release r1 is active", ""},
		{[]string{"rollback", "r9", cliapp}, 1, "", "cliapp has no release r9; its releases are: r1 (stable), r2"},
		{[]string{"rollback", "r2", cliapp}, 0, "cliapp rolled back: release r2 is active", ""},
		{[]string{"abort", ghost}, 1, "", "ghost, the project in " + ghost + ", is not deployed"},
		{[]string{"stop", otherapp}, 0, "stopped otherapp", ""},
		{[]string{"stop", "--app", "cliapp", otherapp}, 0, "stopped cliapp", ""},
		{[]string{"destroy", otherapp}, 0, "otherapp", ""},
	} {
		code, out, errs := e.runIn(nowhere, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) {
			t.Errorf("pyship %s: exit %d, want %d with %q on stdout and %q on stderr\n%s%s", strings.Join(c.args, " "), code, c.code, c.out, c.err, out, errs)
		}
	}
	if st := e.status(); len(st) != 1 || st[0].App != "cliapp" || st[0].Active != "r2" {
		t.Errorf("status after destroy DIR of otherapp: %+v", st)
	}
}

// The first Ctrl-C during a deploy aborts it: the live release keeps all traffic, the new
// release's replicas stop, the command shows the rollback and exits 130.
func TestCtrlCAbortsTheDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if code, _, errs := e.deploy(e.project("v1", "", "blue-green", port, nil)); code != 0 {
		t.Fatalf("deploy v1: %s", errs)
	}
	p := poll(url)
	defer p.stop()
	var errb bytes.Buffer
	cmd := e.startDeploy(e.project("v2", "slowstart", "blue-green", port, nil), &errb)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
		t.Fatalf("deploy after Ctrl-C: %v, want exit %d\n%s", err, ExitInterrupted, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted: aborting the deploy of r2 and rolling back to the live release") ||
		!strings.Contains(errb.String(), "deploy of r2 failed and was rolled back") {
		t.Errorf("deploy output after Ctrl-C:\n%s", errb.String())
	}
	if code, body, err := getBody(url); err != nil || code != 200 || body != "stdlib v1" {
		t.Errorf("after the aborted deploy the app answers %d %q %v, want stdlib v1", code, body, err)
	}
	if st := e.status(); len(st) != 1 || st[0].Active != "r1" || st[0].Rollout == nil || st[0].Rollout.Phase != rollout.RolledBack {
		t.Errorf("status after the aborted deploy: %+v", st)
	}
	if p.failed.Load() != 0 {
		t.Errorf("%d requests failed around the aborted deploy", p.failed.Load())
	}
}

// `pyship deploy --strategy canary && pyship promote`, as the README has it, on an app that gets
// no traffic: the canary holds once no_traffic_after has passed, deploy says so and exits 0,
// promote gives the canary all traffic, and a second promote has nothing left to do.
func TestCanaryWithoutTrafficThenPromote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	canary := func(p *plan.Plan) {
		p.Deploy.Canary = &plan.Canary{Steps: []int{50, 100}, Pause: "300ms", MinRequests: 5, MaxErrorRate: 0.1, MaxLatencyRatio: 10, NoTrafficAfter: "1s"}
	}
	if code, _, errs := e.deploy(e.project("v1", "", "canary", port, canary)); code != 0 {
		t.Fatalf("deploy v1: exit %d\n%s", code, errs)
	}
	code, _, errs := e.deploy(e.project("v2", "", "canary", port, canary))
	if code != 0 || !strings.Contains(errs, "the canary r2 of cliapp holds (for lack of traffic, or while the SLO burn rate is above max_burn_rate): pyship promote gives it all traffic") {
		t.Fatalf("deploy v2 without traffic: exit %d\n%s", code, errs)
	}
	// Before it holds, the deploy says what it waits for and how to go on, once.
	if n := strings.Count(errs, "canary paused, not enough traffic: the canary got 0 of the 5 requests needed to judge it; send traffic, or run `pyship promote` or `pyship abort`"); n != 1 {
		t.Errorf("the wait for traffic is said %d times, want once:\n%s", n, errs)
	}
	if st := e.status(); len(st) != 1 || st[0].Rollout == nil || !st[0].Rollout.Held || st[0].Active != "r1" {
		t.Fatalf("status while the canary holds: %+v", st)
	}
	if code, out, errs := e.run("promote"); code != 0 || !strings.Contains(out, "promote requested") {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errs)
	}
	testsvc.Eventually(t, 30*time.Second, "the promoted canary to become stable", func() error {
		if st := e.status(); len(st) != 1 || st[0].Active != "r2" {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	if st := e.status(); st[0].Rollout == nil || st[0].Rollout.Phase != rollout.Succeeded || st[0].Rollout.Held {
		t.Errorf("the promoted canary's rollout: %+v, want succeeded and no longer held", st[0].Rollout)
	}
	if code, out, errs := e.run("promote"); code != 0 || !strings.Contains(out, "nothing to promote") {
		t.Errorf("a second promote: exit %d\n%s%s", code, out, errs)
	}
}

// A worker's canary is judged on its replicas' health and the pause: it gets no requests, and
// the deploy finishes without waiting for any.
func TestWorkerCanaryNeedsNoTraffic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	worker := func(p *plan.Plan) {
		p.Run.Kind, p.Run.Port = "worker", 0
		p.Run.Command = []string{"python", "-c", "import os, time\nassert 'PORT' not in os.environ\nwhile True: time.sleep(1)"}
		p.Health = plan.Health{Type: "process", Interval: "300ms", Timeout: "1s", StartupTimeout: "8s"}
		p.Deploy.Canary = &plan.Canary{Steps: []int{50, 100}, Pause: "300ms", MinRequests: 5, MaxErrorRate: 0.1, MaxLatencyRatio: 10, NoTrafficAfter: "1h"}
	}
	for _, v := range []string{"v1", "v2"} {
		code, _, errs := e.deploy(e.project(v, "", "canary", 0, worker))
		if code != 0 {
			t.Fatalf("deploy %s of a worker: exit %d\n%s", v, code, errs)
		}
		for _, word := range []string{"traffic", "request", "5xx", "latency"} {
			if strings.Contains(errs, word) {
				t.Errorf("the deploy of a worker says %q:\n%s", word, errs)
			}
		}
		if v == "v2" && !strings.Contains(errs, "canary analysis passed: a worker: its replicas are ready and not restarting") {
			t.Errorf("the worker's canary steps are not said to be judged on health:\n%s", errs)
		}
	}
	st := e.status()
	if len(st) != 1 || st[0].Active != "r2" || !st[0].Worker || st[0].URL != "" {
		t.Fatalf("status after the worker's canary: %+v", st)
	}
	// Its replicas get no $PORT, and status shows no port or traffic figures.
	for _, r := range st[0].Releases {
		for _, rep := range r.Instances {
			env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", rep.PID))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Port != 0 || strings.Contains("\x00"+string(env), "\x00PORT=") {
				t.Errorf("worker replica %s has port %d, environment with PORT: %v", rep.ID, rep.Port, strings.Contains(string(env), "PORT="))
			}
		}
	}
	_, out, _ := e.run("status")
	for _, word := range []string{"port", "REQ/S", "5XX", "traffic", "WEIGHT"} {
		if strings.Contains(out, word) {
			t.Errorf("the status of a worker mentions %q:\n%s", word, out)
		}
	}
	// An agent that starts again (killed here) gives the worker no proxy process either.
	if b, err := os.ReadFile(filepath.Join(e.home, "agent.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if code, _, errs := e.deploy(e.project("v3", "", "canary", 0, worker)); code != 0 {
		t.Fatalf("deploy v3 of a worker with a new agent: exit %d\n%s", code, errs)
	}
	if n := proxyProcesses(e.home); n != 0 {
		t.Errorf("%d proxy processes run for a worker after the agent started again", n)
	}
	if code, out, errs := e.run("stop"); code != 0 || strings.Contains(out, "serves") || !strings.Contains(out, "runs it again") {
		t.Errorf("stop of a worker: exit %d\n%s%s", code, out, errs)
	}
}

// A failed first deploy leaves nothing behind: no ghost release in status, no proxy holding
// its port, and the name can be deployed again on another port. A port held by another pyship
// app is named as such.
func TestFailedFirstDeployLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := freeTCPPort(t)
	code, out, errs := e.deploy(e.project("v1", "crash", "rolling", port, nil), "--output", "json")
	var res platform.Result
	if err := json.Unmarshal([]byte(out), &res); code != 1 || err != nil {
		t.Fatalf("deploy of a crashing first release: exit %d, %v\n%s%s", code, err, out, errs)
	}
	// Nothing was rolled back to: it failed, said as on Kubernetes.
	if res.Phase != platform.Failed || res.Active != "" || !strings.Contains(errs, "deploy of r1 failed (the reason is above)") {
		t.Errorf("a failed first deploy: phase %q, active %q\n%s", res.Phase, res.Active, errs)
	}
	if st := e.status(); len(st) != 0 {
		t.Errorf("status after a failed first deploy: %+v, want no app", st)
	}
	testsvc.Eventually(t, 10*time.Second, "the failed app's port to be free", func() error {
		ln, err := netListen(port)
		if err != nil {
			return err
		}
		return ln.Close()
	})
	other := freeTCPPort(t)
	if code, _, errs := e.deploy(e.project("v1", "", "rolling", other, nil)); code != 0 {
		t.Fatalf("deploy of the same name on another port after the failure: exit %d\n%s", code, errs)
	}
	second := e.project("v1", "", "rolling", other, func(p *plan.Plan) { p.Name = "second" })
	if code, _, errs := e.deploy(second); code == 0 || !strings.Contains(errs, fmt.Sprintf("port %d is the public port of the pyship app cliapp", other)) {
		t.Errorf("deploy of another app on cliapp's port: exit %d\n%s", code, errs)
	}
	if st := e.status(); len(st) != 1 || st[0].App != "cliapp" {
		t.Errorf("status after a refused first deploy of another app: %+v, want cliapp alone", st)
	}
}
