package cli

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
)

func TestMonitorUpDown(t *testing.T) {
	t.Parallel()
	svc := testsvc.Start(t, "prometheus")
	e := newEnv(t)
	agentCmd := exec.Command(pyshipBin(t), "agent", "--home", e.home, "--admin-addr", "127.0.0.1:0", "--bind", "127.0.0.1")
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	testsvc.Eventually(t, 20*time.Second, "the agent to answer", func() error {
		if code, _, stderr := e.run("status"); code != 0 {
			return fmt.Errorf("status: exit %d: %s", code, stderr)
		}
		return nil
	})
	prom, am := fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t)), fmt.Sprintf("127.0.0.1:%d", testsvc.Port(t))
	code, out, stderr := e.run("monitor", "up", "--prometheus-addr", prom, "--alertmanager-addr", am,
		"--prometheus", svc["PYSHIP_TEST_PROMETHEUS_BIN"], "--alertmanager", svc["PYSHIP_TEST_ALERTMANAGER_BIN"])
	t.Cleanup(func() { e.run("monitor", "down") })
	if code != 0 {
		t.Fatalf("monitor up: exit %d: %s", code, stderr)
	}
	page := regexp.MustCompile(`(?m)^status page +(http://\S+/status)$`).FindStringSubmatch(out)
	if !strings.Contains(out, "prometheus   http://"+prom) || !strings.Contains(out, "alertmanager http://"+am) || page == nil {
		t.Fatalf("monitor up printed %q", out)
	}
	if code, body, err := getBody(page[1] + "/data.json"); err != nil || code != 200 || !strings.Contains(body, `"configured":true`) {
		t.Fatalf("the status page's data after monitor up: %d %v %s", code, err, body)
	}
	if code, _, err := getBody("http://" + prom + "/-/ready"); err != nil || code != 200 {
		t.Fatalf("Prometheus is not ready after monitor up: %d %v", code, err)
	}
	code, out, stderr = e.run("monitor", "down")
	if code != 0 || !strings.Contains(out, "stopped Prometheus and Alertmanager") {
		t.Fatalf("monitor down: exit %d: %s %s", code, out, stderr)
	}
	if _, _, err := getBody("http://" + prom + "/-/ready"); err == nil {
		t.Errorf("Prometheus still answers after monitor down")
	}
	// Without an agent, monitor up says how to start one.
	agentCmd.Process.Kill()
	agentCmd.Wait()
	code, _, stderr = e.run("monitor", "up", "--prometheus", svc["PYSHIP_TEST_PROMETHEUS_BIN"], "--alertmanager", svc["PYSHIP_TEST_ALERTMANAGER_BIN"])
	if code == 0 || !strings.Contains(stderr, "pyship agent --home") {
		t.Errorf("monitor up without an agent: exit %d: %s", code, stderr)
	}
}

func TestMonitorUpSaysHowToInstall(t *testing.T) {
	t.Parallel()
	code, _, stderr := testEnv("PATH="+t.TempDir()).run(t, "monitor", "up", "--home", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "apt-get install prometheus prometheus-alertmanager") || !strings.Contains(stderr, "--prometheus and --alertmanager") {
		t.Fatalf("monitor up without the binaries: exit %d, stderr %q", code, stderr)
	}
}
