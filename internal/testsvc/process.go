package testsvc

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Process runs bin with args for the test's life (a private Prometheus or Alertmanager, for
// example), its output in a log under t.TempDir(), and waits until readyURL answers 200. A
// process that exits before it is ready fails the test with its log; it is killed when the
// test ends.
func Process(t testing.TB, bin, readyURL string, args ...string) {
	t.Helper()
	if bin == "" {
		t.Fatal("no binary to run: did scripts/services export its path?")
	}
	log, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(bin)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		log.Close()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("%s's log:\n%s", filepath.Base(bin), out)
		}
	})
	Eventually(t, 30*time.Second, filepath.Base(bin)+" ready", func() error {
		select {
		case err := <-exited:
			exited <- err
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("%s exited: %v\n%s", filepath.Base(bin), err, out)
		default:
		}
		resp, err := http.Get(readyURL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
}
