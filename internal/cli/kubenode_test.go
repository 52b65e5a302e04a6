package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The real-pod tier: pyship's Kubernetes path on a real node (kubelet + containerd + kube-proxy,
// `scripts/services start kube-node`) joined to the test control plane, with the examples'
// images that pyship builds and pushes to the test registry. These tests run when
// PYSHIP_TEST_REAL_PODS=1 (scripts/test sets it once it has started kube-node) and the machine
// can run pods; otherwise they skip with the reason.

// realPods is the real node's cluster: the kubeconfig, a client in a fresh namespace whose pods
// all go to the real node (the namespace annotations kube-node exports) and that enforces Pod
// Security "restricted", and the test registry.
func realPods(t *testing.T, prefix string) (kc string, c *kube.Client, registry string) {
	t.Helper()
	if testing.Short() {
		t.Skip("real-pod tier")
	}
	if os.Getenv("PYSHIP_TEST_REAL_PODS") == "" {
		t.Skip("real-pod tier: set PYSHIP_TEST_REAL_PODS=1 to run it (scripts/test does after `scripts/services start kube-node`)")
	}
	vars := testsvc.Start(t, "kube-node")
	if why := vars["PYSHIP_KUBE_NODE_SKIP"]; why != "" {
		t.Skip("real-pod tier: " + why)
	}
	kc = vars["KUBECONFIG"]
	var ann map[string]string
	if err := json.Unmarshal([]byte(vars["PYSHIP_KUBE_REAL_NODE_ANNOTATIONS"]), &ann); err != nil {
		t.Fatalf("kube-node's PYSHIP_KUBE_REAL_NODE_ANNOTATIONS: %v", err)
	}
	c = newNamespace(t, kc, metav1.ObjectMeta{Name: prefix, Annotations: ann,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}})
	return kc, c, vars["PYSHIP_TEST_REGISTRY"]
}

// realApp is a copy of the stdlib example deployed to the real node by the pyship binary (not
// in-process: the tier's tests run in parallel, each in its own folder and environment).
type realApp struct {
	t                  *testing.T
	dir                string
	env                []string
	ns, registry, base string
}

// realProject copies the stdlib example into a new folder and writes its pyship.toml from spec:
// %[1]q in it is the namespace, %[2]q the real node's StorageClass, %[3]q the test registry and
// %[4]q the test base image.
func realProject(t *testing.T, c *kube.Client, registry, spec string) *realApp {
	t.Helper()
	py := testsvc.Start(t, "python")
	a := &realApp{t: t, dir: testsvc.CopyTree(t, example(t, "stdlib")), ns: c.Namespace, registry: registry,
		base: testsvc.Start(t, "pybase")["PYSHIP_TEST_BASE"],
		env: []string{"PIP_NO_INDEX=1", "PIP_FIND_LINKS=" + py["PYSHIP_TEST_WHEELHOUSE"], "PYSHIP_CACHE=" + t.TempDir(),
			"KUBECONFIG=" + testsvc.Start(t, "kube-node")["KUBECONFIG"]}}
	pyshipBin(t)
	a.writeSpec(spec)
	return a
}

// writeSpec writes the project's pyship.toml (see realProject).
func (a *realApp) writeSpec(spec string) {
	a.t.Helper()
	a.write("pyship.toml", fmt.Sprintf(spec, a.ns, "pyship-node-hostpath", a.registry+"/realpods", a.base))
}

func (a *realApp) write(name, content string) {
	a.t.Helper()
	if err := os.WriteFile(filepath.Join(a.dir, name), []byte(content), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// pyship runs the pyship binary in the project with extra environment and returns its exit
// code, stdout and stderr.
func (a *realApp) pyship(ctx context.Context, env []string, args ...string) (int, string, string) {
	a.t.Helper()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = a.dir
	cmd.Env = append(append(os.Environ(), a.env...), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	case err != nil:
		a.t.Fatalf("running pyship %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String(), errb.String()
}

// waitOnlyActive polls until every pod of the namespace belongs to the app's active release and
// none is terminating, and returns the pods.
func waitOnlyActive(ctx context.Context, t *testing.T, c *kube.Client, app string) []corev1.Pod {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		st, err := c.ReadState(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelName + "=" + app})
		if err != nil {
			t.Fatal(err)
		}
		done := true
		last = ""
		for _, p := range pods.Items {
			last += fmt.Sprintf(" %s(%s, deleting %v)", p.Name, p.Labels[kube.LabelRelease], p.DeletionTimestamp != nil)
			if p.Labels[kube.LabelRelease] != st.Active || p.DeletionTimestamp != nil {
				done = false
			}
		}
		if done {
			return pods.Items
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("pods of %s other than its active release are still there:%s", app, last)
	return nil
}

// load sends GET requests through a URL at a steady rate, each on a new connection (as many
// clients do, and so each is routed anew by the Service), and counts what failed.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	bodies     map[string]int
	errs       []string
	cancel     context.CancelFunc
	done       chan struct{}
}

// startLoad sends at most max requests, one every interval, until stopped.
func startLoad(url string, interval time.Duration, max int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{bodies: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < max; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			resp, err := client.Get(url)
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil && resp.StatusCode == http.StatusOK {
					l.ok.Add(1)
					var v struct{ Version string }
					_ = json.Unmarshal(b, &v)
					l.mu.Lock()
					l.bodies[v.Version]++
					l.mu.Unlock()
					continue
				}
				err = fmt.Errorf("status %d, %v", resp.StatusCode, rerr)
			}
			l.failed.Add(1)
			l.mu.Lock()
			if len(l.errs) < 10 {
				l.errs = append(l.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *load) stop() { l.cancel(); <-l.done }

// serviceURL is the URL of the app's Service on its cluster IP (routed by the node's kube-proxy).
func serviceURL(ctx context.Context, t *testing.T, c *kube.Client, app string) string {
	t.Helper()
	svc, err := c.Core.CoreV1().Services(c.Namespace).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://%s:%d/", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port)
}

// waitServed polls url until it answers 200 with a body containing want.
func waitServed(ctx context.Context, t *testing.T, url, want string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var last string
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), want) {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not serve %q: last answer %s", url, want, last)
}

// podsOnRealNode checks that the namespace's pods run on the real node, and returns them.
func podsOnRealNode(ctx context.Context, t *testing.T, c *kube.Client) []corev1.Pod {
	t.Helper()
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "pyship-real-node" {
			t.Errorf("pod %s is on node %q, not the real node", p.Name, p.Spec.NodeName)
		}
	}
	return pods.Items
}

// realSpec is the pyship.toml of the stdlib example on the real node with the strategy (for
// realProject; @V@ is the version, which the app answers with), 2 replicas and its data folder
// on a claim of the node's StorageClass.
func realSpec(strategy string) string {
	canary := ""
	if strategy == "canary" {
		canary = "[deploy.canary]\nsteps = [50]\npause = \"3s\"\n"
	}
	return `name = "shop"
version = "@V@"
[env]
PYSHIP_VERSION = "@V@"
[build]
registry = %[3]q
base = %[4]q
[deploy]
target = "kubernetes"
strategy = "` + strategy + `"
replicas = 2
` + canary + `[kubernetes]
namespace = %[1]q
storage_class = %[2]q
cpu = "50m"
memory = "64Mi"
[data]
persistent = ["data"]
`
}

// TestRealPodsDeployStrategiesUnderLoadLoseNothing deploys the stdlib example, built by pyship
// and pushed to the test registry, on the real node with each strategy, then deploys a new
// version of it (and, for blue-green and canary, promotes it, ending the old release) while a
// steady load goes through the Service: no request fails. The pods are admitted under Pod
// Security "restricted", their probes run (the kubelet marks them ready), and the data folder
// is a claim bound by the node's provisioner.
func TestRealPodsDeployStrategiesUnderLoadLoseNothing(t *testing.T) {
	for _, strategy := range []string{"rolling", "blue-green", "canary"} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			_, c, reg := realPods(t, "real-"+strategy)
			spec := realSpec(strategy)
			app := realProject(t, c, reg, strings.ReplaceAll(spec, "@V@", "v1"))
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
				t.Fatalf("first deploy: exit %d\n%s", code, errs)
			}
			url := serviceURL(ctx, t, c, "shop")
			waitServed(ctx, t, url, `"v1"`)
			podsOnRealNode(ctx, t, c)
			pvcs, err := c.Core.CoreV1().PersistentVolumeClaims(c.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil || len(pvcs.Items) != 1 || pvcs.Items[0].Status.Phase != corev1.ClaimBound {
				t.Fatalf("the data claim is not bound by the node's provisioner: %v %+v", err, pvcs)
			}

			app.writeSpec(strings.ReplaceAll(spec, "@V@", "v2"))
			l := startLoad(url, 50*time.Millisecond, 20*60*8)
			defer l.stop()
			start := time.Now()
			code, _, errs := app.pyship(ctx, nil, "deploy")
			took := time.Since(start)
			if code != ExitOK {
				t.Fatalf("second deploy: exit %d\n%s", code, errs)
			}
			if strategy != "rolling" {
				if code, _, errs := app.pyship(ctx, nil, "promote"); code != ExitOK {
					t.Fatalf("promote: exit %d\n%s", code, errs)
				}
			}
			// The load goes on until the old release's pods have ended.
			pods := waitOnlyActive(ctx, t, c, "shop")
			l.stop()
			t.Logf("%s: deploy took %s; %d requests served (by version %v), %d failed", strategy, took.Round(time.Millisecond), l.ok.Load(), l.bodies, l.failed.Load())
			if l.failed.Load() != 0 {
				t.Errorf("%d of %d requests through the Service failed during the %s deploy: %q", l.failed.Load(), l.failed.Load()+l.ok.Load(), strategy, l.errs)
			}
			if l.bodies["v1"] == 0 || l.bodies["v2"] == 0 {
				t.Errorf("the load saw versions %v, want both v1 and v2", l.bodies)
			}
			for _, p := range pods {
				if p.Spec.NodeName != "pyship-real-node" {
					t.Errorf("pod %s is on node %q, not the real node", p.Name, p.Spec.NodeName)
				}
				for _, cs := range p.Status.ContainerStatuses {
					if cs.RestartCount != 0 || !cs.Ready {
						t.Errorf("pod %s: ready %v, %d restarts", p.Name, cs.Ready, cs.RestartCount)
					}
				}
			}
		})
	}
}

// firstRealRolling deploys v1 of the stdlib example (app shop, rolling) on the real node in
// a fresh namespace, and returns the client, the project, its spec (realSpec) and its state.
func firstRealRolling(ctx context.Context, t *testing.T, prefix string) (*kube.Client, *realApp, string, *kube.State) {
	t.Helper()
	_, c, reg := realPods(t, prefix)
	spec := realSpec("rolling")
	app := realProject(t, c, reg, strings.ReplaceAll(spec, "@V@", "v1"))
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("first deploy: exit %d\n%s", code, errs)
	}
	st, err := c.ReadState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	return c, app, spec, st
}

// TestRealPodsCrashLoopIsDiagnosedAndRolledBack deploys a release of the stdlib example that
// exits at start under load: the deploy fails, says the container is crash-looping with its own
// last log lines (read from the real container through the kubelet), rolls back, and no request
// through the Service fails meanwhile.
func TestRealPodsCrashLoopIsDiagnosedAndRolledBack(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, app, spec, st1 := firstRealRolling(ctx, t, "real-crash")
	url := serviceURL(ctx, t, c, "shop")
	waitServed(ctx, t, url, `"v1"`)

	src, err := os.ReadFile(filepath.Join(app.dir, "main.py"))
	if err != nil {
		t.Fatal(err)
	}
	crash := "import sys\nsys.stderr.write('boom: the v2 settings are missing\\n')\nsys.exit(3)\n"
	app.write("main.py", crash+string(src))
	app.writeSpec(strings.ReplaceAll(spec, "@V@", "v2"))
	l := startLoad(url, 50*time.Millisecond, 20*60*8)
	defer l.stop()
	code, _, errs := app.pyship(ctx, nil, "deploy", "--timeout", "50s")
	l.stop()
	t.Logf("the crash-looping deploy said:\n%s", errs)
	if code != ExitFailure {
		t.Fatalf("deploy of a crashing release: exit %d, want %d", code, ExitFailure)
	}
	for _, want := range []string{"is crash-looping", "last exit code 3", "boom: the v2 settings are missing", "rolled back"} {
		if !strings.Contains(errs, want) {
			t.Errorf("the failed deploy does not say %q", want)
		}
	}
	st, err := c.ReadState(ctx, "shop")
	if err != nil || st.Active != st1.Active {
		t.Errorf("after the failed deploy the active release is %q, want %q (%v)", st.Active, st1.Active, err)
	}
	waitServed(ctx, t, url, `"v1"`)
	t.Logf("%d requests served during the failed deploy (by version %v), %d failed", l.ok.Load(), l.bodies, l.failed.Load())
	if l.failed.Load() != 0 || l.bodies["v2"] != 0 {
		t.Errorf("%d requests failed and %d were answered by the crashing release: %q", l.failed.Load(), l.bodies["v2"], l.errs)
	}
}

// TestRealPodsProbesRunAndPodSecurityIsEnforced: the kubelet runs pyship's probes. An app told to
// turn unhealthy leaves the Service's ready endpoints (readiness) and is restarted (liveness),
// then serves again. A pod breaking Pod Security "restricted" is refused in the same namespace
// where pyship's pods were admitted.
func TestRealPodsProbesRunAndPodSecurityIsEnforced(t *testing.T) {
	t.Parallel()
	_, c, reg := realPods(t, "real-probes")
	app := realProject(t, c, reg, `name = "sick"
version = "v1"
[build]
registry = %[3]q
base = %[4]q
[run]
command = "python main.py"
[health]
type = "http"
path = "/healthz"
interval = "1s"
timeout = "1s"
[deploy]
target = "kubernetes"
[kubernetes]
namespace = %[1]q
storage_class = %[2]q
cpu = "50m"
memory = "64Mi"
`)
	main := `import os, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sick = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/sicken":
            sick.set()
        code = 500 if self.path == "/healthz" and sick.is_set() else 200
        body = b"sick\n" if sick.is_set() else b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("", int(os.environ["PORT"])), Handler).serve_forever()
`
	app.write("main.py", main)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	pods := podsOnRealNode(ctx, t, c)
	if len(pods) != 1 {
		t.Fatalf("%d pods, want 1", len(pods))
	}
	pod := pods[0]
	ct := pod.Spec.Containers[0]
	if ct.ReadinessProbe == nil || ct.LivenessProbe == nil || ct.ReadinessProbe.HTTPGet == nil || ct.ReadinessProbe.HTTPGet.Path != "/healthz" {
		t.Fatalf("the pod has no HTTP readiness and liveness probes on /healthz: %+v", ct)
	}
	podURL := fmt.Sprintf("http://%s:%d/", pod.Status.PodIP, ct.Ports[0].ContainerPort)
	waitServed(ctx, t, podURL+"sicken", "sick")

	// Readiness: the kubelet marks the container unready, and the EndpointSlice follows.
	pollPod := func(what string, ok func(p *corev1.Pod) bool) *corev1.Pod {
		t.Helper()
		var p *corev1.Pod
		for ctx.Err() == nil {
			var err error
			if p, err = c.Core.CoreV1().Pods(c.Namespace).Get(ctx, pod.Name, metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if ok(p) {
				return p
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("pod %s: %s did not happen: %+v", pod.Name, what, p.Status)
		return nil
	}
	pollPod("unready after /healthz fails", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && !p.Status.ContainerStatuses[0].Ready
	})
	for ctx.Err() == nil {
		slices, err := c.Core.DiscoveryV1().EndpointSlices(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=sick"})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready++
				}
			}
		}
		if ready == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Liveness: the kubelet restarts the container, which starts healthy and is ready again.
	p := pollPod("restarted and ready again", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1 && p.Status.ContainerStatuses[0].Ready
	})
	evs, err := c.Core.CoreV1().Events(c.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod.Name + ",reason=Unhealthy"})
	if err != nil {
		t.Fatal(err)
	}
	var saw []string
	for _, e := range evs.Items {
		saw = append(saw, e.Message)
	}
	if all := strings.Join(saw, "\n"); !strings.Contains(all, "Readiness probe failed") || !strings.Contains(all, "Liveness probe failed") {
		t.Errorf("the kubelet's Unhealthy events do not show both probes failing:\n%s", all)
	}
	waitServed(ctx, t, podURL, "ok")
	t.Logf("pod %s restarted %d time(s) by its liveness probe", p.Name, p.Status.ContainerStatuses[0].RestartCount)

	// Pod Security "restricted" is enforced in the namespace pyship's pod was admitted to.
	bad := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "privileged"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "x", Image: ct.Image, SecurityContext: &corev1.SecurityContext{Privileged: ptrTo(true)}}}}}
	_, err = c.Core.CoreV1().Pods(c.Namespace).Create(ctx, bad, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("a privileged pod in the namespace: %v, want a Pod Security rejection", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestRealPodsBackupCronJobRestoresByteForByte: deploy pushes the backup agent image beside the
// app's and applies the backup CronJob; a Job made from the CronJob's template runs as a real pod
// on the node, with the app's claim, and backs the data folder up to S3 (reached at the node's
// address); `pyship backup restore` gives back the files the app and the test wrote, byte for
// byte.
func TestRealPodsBackupCronJobRestoresByteForByte(t *testing.T) {
	t.Parallel()
	_, c, reg := realPods(t, "real-backup")
	host := testsvc.Start(t, "kube-node")["PYSHIP_KUBE_NODE_HOST"]
	s3 := testsvc.Start(t, "s3")
	ident, pub := testIdentity(t)
	signPub, signKey := testSigningKey(t) // backups are signed: the pod takes the key from APP-backup-signing
	endpoint := s3["PYSHIP_TEST_S3_ENDPOINT"]
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	podEndpoint := "http://" + net.JoinHostPort(host, u.Port())
	dest := "s3://" + s3["PYSHIP_TEST_S3_BUCKET"] + "/" + c.Namespace
	spec := strings.ReplaceAll(realSpec("rolling"), "@V@", "v1") + fmt.Sprintf(`[backup]
schedule = "17 3 * * *"
destination = %q
endpoint = %q
region = "us-east-1"
recipients = [%q]
signing_public_keys = [%q]
folders = ["data"]
`, dest, podEndpoint, pub, signPub)
	app := realProject(t, c, reg, spec) // the pyship binary is static, as the agent image needs
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := c.Core.CoreV1().Secrets(c.Namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: kube.BackupCredentialsSecret("shop")},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": s3["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY": s3["PYSHIP_TEST_S3_SECRET_KEY"]}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Core.CoreV1().Secrets(c.Namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: kube.BackupSigningSecret("shop")},
		Data: map[string][]byte{kube.SigningSecretKey: []byte(signKey + "\n")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := app.pyship(ctx, nil, "deploy"); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, errs)
	}
	waitServed(ctx, t, serviceURL(ctx, t, c, "shop"), `"v1"`) // the app counts the visit in data/visits.txt

	// The data folder is the claim's folder on this machine: add a file the app did not write.
	pvc, err := c.Core.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, "shop-data-data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := c.Core.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil || pv.Spec.HostPath == nil {
		t.Fatalf("the claim's volume: %v %+v", err, pv)
	}
	folder := pv.Spec.HostPath.Path
	blob := make([]byte, 300_000)
	for i := range blob {
		blob[i] = byte(i*7919 + i/256)
	}
	if err := os.WriteFile(filepath.Join(folder, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}

	cj, err := c.Core.BatchV1().CronJobs(c.Namespace).Get(ctx, "shop-backup", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the backup CronJob: %v", err)
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "shop-backup-now"}, Spec: cj.Spec.JobTemplate.Spec}
	if _, err := c.Core.BatchV1().Jobs(c.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 5*time.Minute, "the backup job to succeed", func() error {
		j, err := c.Core.BatchV1().Jobs(c.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Succeeded > 0 {
			return nil
		}
		// A pod that cannot even start (a missing Secret, an image that cannot be pulled)
		// will not recover: say why now rather than at the deadline.
		pods, _ := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
		stuck := false
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if w := cs.State.Waiting; w != nil && (w.Reason == "CreateContainerConfigError" || w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "InvalidImageName") {
					stuck = true
				}
			}
		}
		if j.Status.Failed > 0 || stuck {
			t.Fatalf("the backup job did not succeed: %+v\n%s", j.Status, strings.Join(c.Diagnose(context.Background(), "job-name="+job.Name), "\n"))
		}
		return fmt.Errorf("job status %+v", j.Status)
	})
	pods := podsOnRealNode(ctx, t, c)
	t.Logf("%d pods on the real node, the backup job's among them", len(pods))

	to := filepath.Join(t.TempDir(), "restored")
	code, _, errs := app.pyship(ctx, []string{"AWS_ACCESS_KEY_ID=" + s3["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY=" + s3["PYSHIP_TEST_S3_SECRET_KEY"]},
		"backup", "restore", "latest", "--to", to, "--dest", dest, "--endpoint", endpoint, "--identity-file", ident)
	if code != ExitOK {
		t.Fatalf("restoring the job's backup: exit %d\n%s", code, errs)
	}
	for _, name := range []string{"blob.bin", "visits.txt"} {
		want, err := os.ReadFile(filepath.Join(folder, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(to, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("restored %s: %d bytes (%v), want the %d bytes of the volume", name, len(got), err, len(want))
		}
	}
}
