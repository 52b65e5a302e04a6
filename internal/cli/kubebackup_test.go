package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A [backup] schedule on Kubernetes: deploy pushes pyship's own agent image beside the app's
// and applies a CronJob running it; that CronJob's container, run for real under podman with
// the app's volume and the S3 credentials, takes a backup that restores the same bytes.
// (kwok's nodes run no containers, so podman stands in for the node.)
func TestKubernetesBackupScheduleRunsTheAgentImage(t *testing.T) {
	t.Parallel()
	kc, c := kubeNamespace(t, "cli-kbackup")
	s3 := testsvc.Start(t, "s3")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	pm := testsvc.Start(t, "podman")
	bin := pyshipBin(t) // static, as the agent image needs

	ident, pub := testIdentity(t)
	sk := kubeSigningKey(t)
	signingPub := sk.pub
	prefix := "kbackup-" + c.Namespace
	dest := "s3://" + s3["PYSHIP_TEST_S3_BUCKET"] + "/" + prefix

	pf := writePlan(t, "web")
	var p plan.Plan
	b, _ := os.ReadFile(pf)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p.Data = []plan.DataFolder{{Path: "data", Persistent: true}}
	p.Backup = &plan.Backup{Schedule: "17 3 * * *", Destination: dest, Endpoint: s3["PYSHIP_TEST_S3_ENDPOINT"], Region: "us-east-1",
		Recipients: []string{pub}, SigningPublicKeys: []string{signingPub}, Folders: []string{"data"}, Retention: plan.Retention{KeepLast: 3}}
	b, _ = json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	volumeFor(ctx, t, c, "web-data-data")
	appImage := reg + "/kbackup/web@sha256:" + strings.Repeat("2", 64) // kwok pulls nothing
	cmd := exec.CommandContext(ctx, bin, "deploy", "--plan", pf, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace)
	cmd.Env = testEnv(append(sk.env(), "PYSHIP_CACHE="+t.TempDir())...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pushed pyship's agent image "+reg+"/kbackup/web:agent-") {
		t.Errorf("deploy did not say it pushed the agent image beside the app's:\n%s", out)
	}
	// The signing key's Secret is not there yet: the deploy says the schedule cannot run.
	if !strings.Contains(string(out), "warning: the scheduled backups of web will not start") || !strings.Contains(string(out), "create secret generic web-backup-signing") {
		t.Errorf("deploy without the Secret web-backup-signing did not warn:\n%s", out)
	}
	signingSecret(t, c, "web", sk.key)

	cj, err := c.Core.BatchV1().CronJobs(c.Namespace).Get(ctx, "web-backup", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the backup CronJob is not in the cluster: %v", err)
	}
	if cj.Spec.Schedule != "17 3 * * *" {
		t.Errorf("schedule %q", cj.Spec.Schedule)
	}
	ctr := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	if !strings.HasPrefix(ctr.Image, reg+"/kbackup/web:agent-") || !strings.Contains(ctr.Image, "@sha256:") {
		t.Fatalf("CronJob image %q: want the agent image beside the app's, by digest", ctr.Image)
	}

	// The node's part: run the CronJob's container as Kubernetes would (its image, args,
	// user, read-only root, the volume where the job mounts it).
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "uploads"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "uploads", "photo.jpg"), []byte("not really a jpeg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	runAsPod(ctx, t, pm, s3, sk.key, ctr, "the CronJob's", "--user", "65532:65532", "-v", data+":"+ctr.VolumeMounts[0].MountPath+":ro")

	env := testEnv(append(sk.env(), "AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"])...)
	to := filepath.Join(t.TempDir(), "restored")
	s3flags := []string{"--dest", dest, "--endpoint", s3["PYSHIP_TEST_S3_ENDPOINT"], "--identity-file", ident}
	code, _, errs := env.run(t, append([]string{"backup", "restore", "latest", "--to", to}, s3flags...)...)
	if code != ExitOK {
		t.Fatalf("restoring the CronJob's backup: exit %d\n%s", code, errs)
	}
	got, err := os.ReadFile(filepath.Join(to, "uploads", "photo.jpg"))
	if err != nil || string(got) != "not really a jpeg\n" {
		t.Errorf("restored file: %q, %v", got, err)
	}

	// [deploy] backup_before: the next deploy first runs the backup pod as a Job tagged with
	// the live release, and waits for it to complete (kwok completes Job pods).
	st, err := c.ReadState(ctx, "web")
	if err != nil || st.Active == "" {
		t.Fatalf("state: %+v, %v", st, err)
	}
	p.Deploy.BackupBefore = true
	p.Env = map[string]string{"NEW": "release"}
	b, _ = json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.CommandContext(ctx, bin, "deploy", "--plan", pf, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace)
	cmd.Env = testEnv(append(sk.env(), "PYSHIP_CACHE="+t.TempDir())...)
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy with backup_before: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "backing up the data of web release "+st.Active) || !strings.Contains(string(out), "complete") {
		t.Errorf("deploy did not back up first:\n%s", out)
	}
	jobs, err := c.Core.BatchV1().Jobs(c.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("jobs: %v, %+v", err, jobs)
	}
	args := strings.Join(jobs.Items[0].Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.HasPrefix(args, "backup now --dest "+dest) || !strings.HasSuffix(args, "--release "+st.Active) || strings.Contains(args, "--prune") {
		t.Errorf("backup job args: %s", args)
	}
	// Before it, the new release had not been applied: the Job started while the old one served.
	if strings.Index(string(out), "backup job") > strings.Index(string(out), "applied Deployment/web") {
		t.Errorf("the deploy applied before the backup:\n%s", out)
	}
}

// A [backup] postgres source on Kubernetes: the agent image is built on a base with
// PostgreSQL's client tools ([kubernetes] agent_base), and the CronJob's container, run for
// real under podman with the DSN in its environment (as the app's Secret gives it), dumps the
// real database.
func TestKubernetesBackupOfPostgresInTheAgentImage(t *testing.T) {
	t.Parallel()
	kc, c := kubeNamespace(t, "cli-kbackup-pg")
	s3 := testsvc.Start(t, "s3")
	pg := testsvc.Start(t, "postgres")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	pgbase := testsvc.Start(t, "pgbase")["PYSHIP_TEST_PGBASE"]
	pm := testsvc.Start(t, "podman")
	bin := pyshipBin(t)

	ident, pub := testIdentity(t)
	sk := kubeSigningKey(t)
	dest := "s3://" + s3["PYSHIP_TEST_S3_BUCKET"] + "/kbackup-pg-" + c.Namespace

	pf := writePlan(t, "web")
	var p plan.Plan
	b, _ := os.ReadFile(pf)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p.Backup = &plan.Backup{Schedule: "0 * * * *", Destination: dest, Endpoint: s3["PYSHIP_TEST_S3_ENDPOINT"], Region: "us-east-1",
		Recipients: []string{pub}, SigningPublicKeys: []string{sk.pub}, Postgres: []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}}}
	p.Kubernetes = &plan.Kubernetes{AgentBase: pgbase}
	signingSecret(t, c, "web", sk.key)
	b, _ = json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	appImage := reg + "/kbackup-pg/web@sha256:" + strings.Repeat("4", 64)
	cmd := exec.CommandContext(ctx, bin, "deploy", "--plan", pf, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace)
	cmd.Env = testEnv(append(sk.env(), "PYSHIP_CACHE="+t.TempDir())...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	cj, err := c.Core.BatchV1().CronJobs(c.Namespace).Get(ctx, "web-backup", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctr := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	if args := strings.Join(ctr.Args, " "); !strings.HasSuffix(args, "--postgres db=env:DATABASE_URL") {
		t.Fatalf("CronJob args: %s", args)
	}

	runAsPod(ctx, t, pm, s3, sk.key, ctr, "the CronJob's", "--user", "65532:65532", "-e", "DATABASE_URL="+pg["PYSHIP_TEST_PG_DSN"])

	env := testEnv(append(sk.env(), "AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"])...)
	s3flags := []string{"--dest", dest, "--endpoint", s3["PYSHIP_TEST_S3_ENDPOINT"], "--identity-file", ident}
	code, out, errs := env.run(t, append([]string{"backup", "list", "-o", "json"}, s3flags...)...)
	var l struct {
		Backups []struct {
			Sources []struct{ Name, Kind string }
		}
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 1 || len(l.Backups[0].Sources) != 1 ||
		l.Backups[0].Sources[0].Name != "db" || l.Backups[0].Sources[0].Kind != "postgres" {
		t.Fatalf("backup list: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := env.run(t, append([]string{"backup", "verify", "latest"}, s3flags...)...); code != ExitOK || !strings.Contains(out, " ok") {
		t.Fatalf("verifying the dump the CronJob took: exit %d\n%s\n%s", code, out, errs)
	}
}

// `pyship rollback --with-data` on Kubernetes: a deploy with [deploy] backup_before backs up
// the release it replaces; rolling back with --with-data finds that backup, scales the app
// down, restores it inside the cluster with the identity from the namespace's Secret, and rolls
// back. The Jobs' containers run for real under podman on the data folder (kwok runs none).
func TestKubernetesRollbackWithData(t *testing.T) {
	t.Parallel()
	kc, c := kubeNamespace(t, "cli-kdata")
	s3 := testsvc.Start(t, "s3")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	pm := testsvc.Start(t, "podman")
	bin := pyshipBin(t)
	ident, pub := testIdentity(t)
	sk := kubeSigningKey(t)
	signingPub := sk.pub
	signingSecret(t, c, "shop", sk.key)
	dest := "s3://" + s3["PYSHIP_TEST_S3_BUCKET"] + "/kdata-" + c.Namespace
	proj := testsvc.WriteTree(t, map[string]string{
		"main.py":                "import os, http.server\nhttp.server.HTTPServer(('', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()\n",
		"data/uploads/photo.jpg": "the original\n",
	})
	writeSpec := func(version string) {
		spec := fmt.Sprintf(`name = "shop"
[deploy]
target = "kubernetes"
backup_before = true
[env]
V = %q
[backup]
destination = %q
endpoint = %q
region = "us-east-1"
recipients = [%q]
signing_public_keys = [%q]
`, version, dest, s3["PYSHIP_TEST_S3_ENDPOINT"], pub, signingPub)
		if err := os.WriteFile(filepath.Join(proj, "pyship.toml"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	volumeFor(ctx, t, c, "shop-data-data")
	pyship := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append(args, "--kubeconfig", kc, "-n", c.Namespace)...)
		cmd.Dir = proj
		cmd.Env = testEnv(append(sk.env(), "PYSHIP_CACHE="+t.TempDir(),
			"AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"])...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pyship %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// runJob runs the container of the newest Job whose name starts with prefix under podman,
	// with the app's data folder where the pod mounts its volume.
	runJob := func(prefix string, extra ...string) {
		t.Helper()
		jobs, err := c.Core.BatchV1().Jobs(c.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ctr *corev1.Container
		for i := range jobs.Items {
			if strings.HasPrefix(jobs.Items[i].Name, prefix) {
				ctr = &jobs.Items[i].Spec.Template.Spec.Containers[0]
			}
		}
		if ctr == nil {
			t.Fatalf("no job %s* in %+v", prefix, jobs.Items)
		}
		runAsPod(ctx, t, pm, s3, sk.key, *ctr, "the "+prefix+" job's", append([]string{"-v", filepath.Join(proj, "data") + ":/app/data"}, extra...)...)
	}
	appImage := reg + "/kdata/shop@sha256:" + strings.Repeat("5", 64)
	writeSpec("1")
	pyship("deploy", "--image", appImage)
	first, err := c.ReadState(ctx, "shop")
	if err != nil || first.Active == "" {
		t.Fatalf("state: %+v %v", first, err)
	}
	writeSpec("2")
	out := pyship("deploy", "--image", appImage)
	if !strings.Contains(out, "backing up the data of shop release "+first.Active) {
		t.Fatalf("the second deploy did not back up %s first:\n%s", first.Active, out)
	}
	// The app's files are its own user's, as the app (uid 65532) writes them in its volume.
	if err := filepath.Walk(filepath.Join(proj, "data"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 65532, 65532)
	}); err != nil {
		t.Fatal(err)
	}
	runJob("shop-backup-"+first.Active, "--user", "65532:65532")

	// After the deploy the app wrote new data; the rollback must bring the old data back.
	if err := os.WriteFile(filepath.Join(proj, "data", "uploads", "photo.jpg"), []byte("written by release 2\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(ident)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Core.CoreV1().Secrets(c.Namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-backup-identity"},
		Data: map[string][]byte{"identity": key}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out = pyship("rollback", "--with-data")
	for _, want := range []string{"restoring the data of " + first.Active + " from backup", "scaled shop-", "to zero while its data is restored", "restore job", "complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback --with-data output lacks %q:\n%s", want, out)
		}
	}
	after, err := c.ReadState(ctx, "shop")
	if err != nil || after.Active != first.Active {
		t.Errorf("after rollback --with-data: active %q, want %q (%v)", after.Active, first.Active, err)
	}
	// As the Secret volume gives it (mode 0440, group 65532): readable by the pod's user.
	mounted := filepath.Join(t.TempDir(), "identity")
	if err := os.WriteFile(mounted, key, 0o444); err != nil {
		t.Fatal(err)
	}
	runJob("shop-restore-", "--user", "65532:65532", "-v", mounted+":/var/run/pyship/identity/identity:ro")
	got, err := os.ReadFile(filepath.Join(proj, "data", "uploads", "photo.jpg"))
	if err != nil || string(got) != "the original\n" {
		t.Errorf("data after the restore job: %q, %v", got, err)
	}
}

// volumeFor makes a volume for the claim: the test cluster has no storage provisioner.
func volumeFor(ctx context.Context, t *testing.T, c *kube.Client, claim string) {
	t.Helper()
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace + "-" + claim}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: t.TempDir()}},
		ClaimRef:               &corev1.ObjectReference{Namespace: c.Namespace, Name: claim},
	}}
	if _, err := c.Core.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Core.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
}

// runAsPod runs a pod's container under podman as a node would (its image and args, a
// read-only root with a /tmp, host networking), with the S3 keys and the podman flags extra:
// kwok's nodes run no containers. signingKey is what the node would take from the Secret
// APP-backup-signing.
func runAsPod(ctx context.Context, t *testing.T, pm, s3 map[string]string, signingKey string, ctr corev1.Container, what string, extra ...string) {
	t.Helper()
	argv := strings.Fields(pm["PYSHIP_TEST_PODMAN"])
	run := append(argv[1:], "run", "--rm", "--network", "host", "--tls-verify=false", "--read-only", "--tmpfs", "/tmp",
		"-e", "AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "-e", "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"])
	for _, e := range ctr.Env {
		// The node would take the signing key from the Secret APP-backup-signing.
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && strings.HasSuffix(ref.SecretKeyRef.Name, "-backup-signing") {
			run = append(run, "-e", e.Name+"="+signingKey)
		}
	}
	run = append(append(run, extra...), ctr.Image)
	cmd := exec.CommandContext(ctx, argv[0], append(run, ctr.Args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+pm["CONTAINERS_CONF"], "CONTAINERS_REGISTRIES_CONF="+pm["CONTAINERS_REGISTRIES_CONF"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s container: %v\n%s", what, err, out)
	}
}

// backupSigning is a backup signing key: the private half a backup pod signs with (runAsPod
// passes it as the node would from the Secret APP-backup-signing, see signingSecret) and the
// public half the commands of the test trust.
type backupSigning struct{ pub, key string }

func kubeSigningKey(t *testing.T) backupSigning {
	t.Helper()
	pub, key := testSigningKey(t)
	return backupSigning{pub: pub, key: key}
}

// env are the variables a pyship command takes the key's halves from.
func (k backupSigning) env() []string {
	return []string{"PYSHIP_BACKUP_SIGNING_KEY=" + k.key, "PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS=" + k.pub}
}

// signingSecret creates the Secret APP-backup-signing in c's namespace from the private key.
func signingSecret(t *testing.T, c *kube.Client, app, key string) {
	t.Helper()
	if _, err := c.Core.CoreV1().Secrets(c.Namespace).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: kube.BackupSigningSecret(app)},
		Data: map[string][]byte{kube.SigningSecretKey: []byte(key + "\n")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// testIdentity makes an age identity file with `pyship backup keygen` and returns it with its
// public key (the recipient).
func testIdentity(t *testing.T) (file, recipient string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "backup.key")
	code, out, errs := runCLI(t, "backup", "keygen", "--identity-file", file)
	if code != ExitOK {
		t.Fatalf("keygen: exit %d\n%s", code, errs)
	}
	return file, strings.TrimSpace(out)
}
