package testsvc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Scrape has the shared Prometheus (scripts/services start prometheus) scrape addr's
// /metrics every second until the test ends, each series labelled testcase=<the test's
// name> and with the label pairs in labels (name, value, ...: e.g. the namespace a
// ServiceMonitor's scrape adds), and returns the Prometheus URL. The target file is written
// atomically and removed when the test ends.
func Scrape(t testing.TB, addr string, labels ...string) (promURL, testcase string) {
	t.Helper()
	env := Start(t, "prometheus")
	testcase = regexp.MustCompile(`[^A-Za-z0-9_]+`).ReplaceAllString(t.Name(), "_")
	ls := map[string]string{"testcase": testcase}
	for i := 0; i+1 < len(labels); i += 2 {
		ls[labels[i]] = labels[i+1]
	}
	b, err := json.Marshal([]map[string]any{{"targets": []string{addr}, "labels": ls}})
	if err != nil {
		t.Fatal(err)
	}
	dir := env["PYSHIP_TEST_PROMETHEUS_SD"]
	final := filepath.Join(dir, fmt.Sprintf("%s-%d.json", testcase, os.Getpid()))
	tmp := final + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(final) })
	return env["PYSHIP_TEST_PROMETHEUS"], testcase
}
