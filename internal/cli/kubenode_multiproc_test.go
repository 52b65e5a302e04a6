package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/pyship/pyship/internal/testsvc"
)

// TestRealPodsGunicornPrometheusMultiproc deploys a prometheus_client app under gunicorn with
// two workers (internal/local/testdata/prommultiproc) to the real node: the pod's emptyDir,
// ConfigMap and GUNICORN_CMD_ARGS make the counts of both workers appear summed on the app's
// /metrics, which fails outright without PROMETHEUS_MULTIPROC_DIR.
func TestRealPodsGunicornPrometheusMultiproc(t *testing.T) {
	t.Parallel()
	_, c, reg := realPods(t, "real-multiproc")
	app := realProject(t, c, reg, `name = "mp"
version = "v1"
[build]
registry = %[3]q
base = %[4]q
[run]
command = "gunicorn --bind 0.0.0.0:${PORT} --workers 2 app:app"
[health]
path = "/healthz"
[deploy]
target = "kubernetes"
[kubernetes]
namespace = %[1]q
storage_class = %[2]q
cpu = "100m"
memory = "160Mi"
`)
	src := filepath.Join(testsvc.RepoRoot(t), "internal", "local", "testdata", "prommultiproc")
	for _, f := range []string{"app.py", "decorator.py", "requirements.txt"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		app.write(f, string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	url := serviceURL(ctx, t, c, "mp")
	waitServed(ctx, t, url+"healthz", "ok")
	podsOnRealNode(ctx, t, c)

	const n = 120
	pids := map[string]int{}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(u string) string {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
		}
		return string(b)
	}
	for range n {
		pids[get(url)]++
	}
	if len(pids) < 2 {
		t.Fatalf("one worker answered every request (%v): the test cannot tell a sum from one worker's count", pids)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(get(url + "metrics")))
	if err != nil {
		t.Fatalf("the app's /metrics: %v", err)
	}
	f := fams["demo_hits_total"]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("the app's /metrics has no single demo_hits_total: %v", f)
	}
	if got := f.GetMetric()[0].GetCounter().GetValue(); got != n {
		t.Errorf("demo_hits_total = %v, want %d, the sum of the workers' counts %v", got, n, pids)
	}
	t.Logf("%d requests over %d workers %v, summed on /metrics", n, len(pids), pids)
}
