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
// name>, and returns the Prometheus URL. The target file is written atomically and removed
// when the test ends.
func Scrape(t testing.TB, addr string) (promURL, testcase string) {
	t.Helper()
	env := Start(t, "prometheus")
	testcase = regexp.MustCompile(`[^A-Za-z0-9_]+`).ReplaceAllString(t.Name(), "_")
	b, err := json.Marshal([]map[string]any{{"targets": []string{addr}, "labels": map[string]string{"testcase": testcase}}})
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
