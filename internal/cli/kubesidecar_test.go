package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sidecarSeries scrapes the proxy sidecar's /metrics of every pod of app on the real node (at
// the pod's IP, which this machine routes to) and sums each series' value by its name and
// labels, e.g. `pyship_requests_total{app="shop",release="r1",code="200"}`.
func sidecarSeries(ctx context.Context, t *testing.T, c *kube.Client, app string) map[string]float64 {
	t.Helper()
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelName + "=" + app})
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]float64{}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
			continue
		}
		port := int32(0)
		for _, ic := range p.Spec.InitContainers {
			for _, cp := range ic.Ports {
				if cp.Name == "pyship-metrics" {
					port = cp.ContainerPort
				}
			}
		}
		if port == 0 {
			t.Fatalf("pod %s has no pyship-metrics port: %+v", p.Name, p.Spec.InitContainers)
		}
		resp, err := client.Get(fmt.Sprintf("http://%s:%d/metrics", p.Status.PodIP, port))
		if err != nil {
			t.Fatalf("scraping the sidecar of pod %s: %v", p.Name, err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") || line == "" {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				t.Fatalf("pod %s /metrics line %q: %v", p.Name, line, err)
			}
			sum[line[:i]] += v
		}
		resp.Body.Close()
	}
	return sum
}

// TestRealPodsSidecarCountsRequestsPerRelease: the stdlib example (no metrics code) deployed
// with [kubernetes] proxy_sidecar on the real node, in a namespace enforcing Pod Security
// "restricted": requests through the Service are counted by the pods' sidecars per release,
// 5xx apart, and the kubelet's probes (which go to the app) are not; the release's
// pyship_release_info carries its version. A rolling deploy of v2 through the sidecars under a
// steady load loses no request, and v2's sidecars count under v2's release.
func TestRealPodsSidecarCountsRequestsPerRelease(t *testing.T) {
	t.Parallel()
	_, c, reg := realPods(t, "real-sidecar")
	spec := strings.Replace(realSpec("rolling"), "[kubernetes]\n", "[kubernetes]\nproxy_sidecar = true\n", 1)
	app := realProject(t, c, reg, strings.ReplaceAll(spec, "@V@", "v1"))
	src, err := os.ReadFile(filepath.Join(app.dir, "main.py"))
	if err != nil {
		t.Fatal(err)
	}
	boom := strings.Replace(string(src), `        elif path.startswith("/images/"):`,
		"        elif path == \"/boom\":\n            self.send(500, \"text/plain\", b\"boom\\n\")\n        elif path.startswith(\"/images/\"):", 1)
	if boom == string(src) {
		t.Fatal("the stdlib example's handler changed: cannot add a /boom path")
	}
	app.write("main.py", boom)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("first deploy: exit %d\n%s", code, errs)
	}
	url := serviceURL(ctx, t, c, "shop")
	waitServed(ctx, t, url, `"v1"`)
	st, err := c.ReadState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range podsOnRealNode(ctx, t, c) {
		if len(p.Status.InitContainerStatuses) != 1 || !p.Status.InitContainerStatuses[0].Ready || p.Status.InitContainerStatuses[0].RestartCount != 0 {
			t.Errorf("pod %s: the sidecar is not running ready without restarts: %+v", p.Name, p.Status.InitContainerStatuses)
		}
	}

	ok200 := fmt.Sprintf(`pyship_requests_total{app="shop",release=%q,code="200"}`, st.Active)
	err500 := fmt.Sprintf(`pyship_requests_total{app="shop",release=%q,code="500"}`, st.Active)
	count := fmt.Sprintf(`pyship_request_duration_seconds_count{app="shop",release=%q}`, st.Active)
	before := sidecarSeries(ctx, t, c, "shop")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	const oks, fails = 30, 7
	for i := range oks + fails {
		path, want := "", http.StatusOK
		if i%5 == 4 && i/5 < fails {
			path, want = "boom", http.StatusInternalServerError
		}
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatalf("GET /%s through the Service: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET /%s through the Service: %d, want %d", path, resp.StatusCode, want)
		}
	}
	after := sidecarSeries(ctx, t, c, "shop")
	// Probes run meanwhile (they go to the app, not through the sidecar): the deltas are exact.
	if d := after[ok200] - before[ok200]; d != oks {
		t.Errorf("%s grew by %v, want %d", ok200, d, oks)
	}
	if d := after[err500] - before[err500]; d != fails {
		t.Errorf("%s grew by %v, want %d", err500, d, fails)
	}
	if d := after[count] - before[count]; d != oks+fails {
		t.Errorf("%s grew by %v, want %d", count, d, oks+fails)
	}
	// The ServiceMonitor's way in: the Service's pyship-metrics port reaches a sidecar.
	svc, err := c.Core.CoreV1().Services(c.Namespace).Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range svc.Spec.Ports {
		if sp.Name != "pyship-metrics" {
			continue
		}
		resp, err := client.Get(fmt.Sprintf("http://%s:%d/metrics", svc.Spec.ClusterIP, sp.Port))
		if err != nil {
			t.Fatalf("the sidecar's metrics through the Service: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), ok200) {
			t.Errorf("the Service's pyship-metrics port answered %d without %s:\n%s", resp.StatusCode, ok200, b)
		}
	}
	info := fmt.Sprintf(`pyship_release_info{app="shop",release=%q,version="v1",strategy="rolling"}`, st.Active)
	if after[info] < 1 {
		t.Errorf("no %s among the sidecars' series: %v", info, after)
	}

	// A rolling deploy through the sidecars under a steady load loses nothing.
	app.writeSpec(strings.ReplaceAll(spec, "@V@", "v2"))
	l := startLoad(url, 50*time.Millisecond, 20*60*8)
	defer l.stop()
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("second deploy: exit %d\n%s", code, errs)
	}
	pods := waitOnlyActive(ctx, t, c, "shop")
	l.stop()
	t.Logf("rolling deploy through the sidecars: %d requests served (by version %v), %d failed", l.ok.Load(), l.bodies, l.failed.Load())
	if l.failed.Load() != 0 {
		t.Errorf("%d of %d requests through the Service failed during the rolling deploy: %q", l.failed.Load(), l.failed.Load()+l.ok.Load(), l.errs)
	}
	if l.bodies["v1"] == 0 || l.bodies["v2"] == 0 {
		t.Errorf("the load saw versions %v, want both v1 and v2", l.bodies)
	}
	st2, err := c.ReadState(ctx, "shop")
	if err != nil || st2.Active == st.Active {
		t.Fatalf("after the second deploy the active release is %q (was %q): %v", st2.Active, st.Active, err)
	}
	v2 := sidecarSeries(ctx, t, c, "shop")
	if n := v2[fmt.Sprintf(`pyship_requests_total{app="shop",release=%q,code="200"}`, st2.Active)]; n < 1 {
		t.Errorf("the v2 pods' sidecars counted %v requests under release %s: %v", n, st2.Active, v2)
	}
	for _, p := range pods {
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if cs.RestartCount != 0 || !cs.Ready {
				t.Errorf("pod %s container %s: ready %v, %d restarts", p.Name, cs.Name, cs.Ready, cs.RestartCount)
			}
		}
	}
}

// TestRenderProxySidecarFollowsTheSpecAndFlags: render with --monitoring puts the proxy
// sidecar of the given agent image in the pods; [kubernetes] proxy_sidecar = false keeps it out.
func TestRenderProxySidecarFollowsTheSpecAndFlags(t *testing.T) {
	pf := writePlan(t, "web")
	const agent = "registry.example/web:agent-1@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	code, out, errs := runCLI(t, "render", "--plan", pf, "--image", cliImage, "--monitoring", "--agent-image", agent)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"name: pyship-proxy", "image: " + agent, "restartPolicy: Always", "- sidecar", "name: pyship-metrics"} {
		if !strings.Contains(out, want) {
			t.Errorf("render --monitoring lacks %q", want)
		}
	}
	var p plan.Plan
	data, _ := os.ReadFile(pf)
	_ = json.Unmarshal(data, &p)
	off := false
	p.Kubernetes = &plan.Kubernetes{Monitoring: true, ProxySidecar: &off}
	data, _ = json.Marshal(p)
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "render", "--plan", pf, "--image", cliImage)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(out, "pyship-proxy") || !strings.Contains(out, "kind: ServiceMonitor") {
		t.Errorf("proxy_sidecar = false with monitoring: the sidecar is rendered, or the ServiceMonitor is not:\n%s", out)
	}
}
