package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	kc, c := kubeNamespace(t, "cli-kbackup")
	s3 := testsvc.Start(t, "s3")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	pm := testsvc.Start(t, "podman")
	bin := pyshipBin(t) // static, as the agent image needs

	ident := filepath.Join(t.TempDir(), "backup.key")
	code, pub, errs := runCLI(t, "backup", "keygen", "--identity-file", ident)
	if code != ExitOK {
		t.Fatalf("keygen: exit %d\n%s", code, errs)
	}
	pub = strings.TrimSpace(pub)
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
		Recipients: []string{pub}, Folders: []string{"data"}, Retention: plan.Retention{KeepLast: 3}}
	b, _ = json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The test cluster has no storage provisioner: a volume waits for the app's claim.
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace + "-data"}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: t.TempDir()}},
		ClaimRef:               &corev1.ObjectReference{Namespace: c.Namespace, Name: "web-data-data"},
	}}
	if _, err := c.Core.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Core.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
	appImage := reg + "/kbackup/web@sha256:" + strings.Repeat("2", 64) // kwok pulls nothing
	cmd := exec.CommandContext(ctx, bin, "deploy", "--plan", pf, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace)
	cmd.Env = append(os.Environ(), "PYSHIP_CACHE="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pushed the backup agent image "+reg+"/kbackup/web:agent-") {
		t.Errorf("deploy did not say it pushed the agent image beside the app's:\n%s", out)
	}

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
	mount := ctr.VolumeMounts[0].MountPath
	argv := strings.Fields(pm["PYSHIP_TEST_PODMAN"])
	run := append(argv[1:], "run", "--rm", "--network", "host", "--tls-verify=false", "--read-only", "--tmpfs", "/tmp",
		"--user", "65532:65532", "-v", data+":"+mount+":ro",
		"-e", "AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "-e", "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"],
		ctr.Image)
	pod := exec.CommandContext(ctx, argv[0], append(run, ctr.Args...)...)
	pod.Env = append(os.Environ(), "CONTAINERS_CONF="+pm["CONTAINERS_CONF"], "CONTAINERS_REGISTRIES_CONF="+pm["CONTAINERS_REGISTRIES_CONF"])
	if out, err := pod.CombinedOutput(); err != nil {
		t.Fatalf("the CronJob's container: %v\n%s", err, out)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", s3["PYSHIP_TEST_S3_ACCESS_KEY"])
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3["PYSHIP_TEST_S3_SECRET_KEY"])
	to := filepath.Join(t.TempDir(), "restored")
	s3flags := []string{"--dest", dest, "--endpoint", s3["PYSHIP_TEST_S3_ENDPOINT"], "--identity-file", ident}
	code, _, errs = runCLI(t, append([]string{"backup", "restore", "latest", "--to", to}, s3flags...)...)
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
	cmd.Env = append(os.Environ(), "PYSHIP_CACHE="+t.TempDir())
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
	kc, c := kubeNamespace(t, "cli-kbackup-pg")
	s3 := testsvc.Start(t, "s3")
	pg := testsvc.Start(t, "postgres")
	reg := testsvc.Start(t, "registry")["PYSHIP_TEST_REGISTRY"]
	pgbase := testsvc.Start(t, "pgbase")["PYSHIP_TEST_PGBASE"]
	pm := testsvc.Start(t, "podman")
	bin := pyshipBin(t)

	ident := filepath.Join(t.TempDir(), "backup.key")
	code, pub, errs := runCLI(t, "backup", "keygen", "--identity-file", ident)
	if code != ExitOK {
		t.Fatalf("keygen: exit %d\n%s", code, errs)
	}
	dest := "s3://" + s3["PYSHIP_TEST_S3_BUCKET"] + "/kbackup-pg-" + c.Namespace

	pf := writePlan(t, "web")
	var p plan.Plan
	b, _ := os.ReadFile(pf)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p.Backup = &plan.Backup{Schedule: "0 * * * *", Destination: dest, Endpoint: s3["PYSHIP_TEST_S3_ENDPOINT"], Region: "us-east-1",
		Recipients: []string{strings.TrimSpace(pub)}, Postgres: []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}}}
	p.Kubernetes = &plan.Kubernetes{AgentBase: pgbase}
	b, _ = json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	appImage := reg + "/kbackup-pg/web@sha256:" + strings.Repeat("4", 64)
	cmd := exec.CommandContext(ctx, bin, "deploy", "--plan", pf, "--target", "kubernetes", "--image", appImage, "--kubeconfig", kc, "-n", c.Namespace)
	cmd.Env = append(os.Environ(), "PYSHIP_CACHE="+t.TempDir())
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

	argv := strings.Fields(pm["PYSHIP_TEST_PODMAN"])
	run := append(argv[1:], "run", "--rm", "--network", "host", "--tls-verify=false", "--read-only", "--tmpfs", "/tmp",
		"--user", "65532:65532", "-e", "DATABASE_URL="+pg["PYSHIP_TEST_PG_DSN"],
		"-e", "AWS_ACCESS_KEY_ID="+s3["PYSHIP_TEST_S3_ACCESS_KEY"], "-e", "AWS_SECRET_ACCESS_KEY="+s3["PYSHIP_TEST_S3_SECRET_KEY"],
		ctr.Image)
	podCmd := exec.CommandContext(ctx, argv[0], append(run, ctr.Args...)...)
	podCmd.Env = append(os.Environ(), "CONTAINERS_CONF="+pm["CONTAINERS_CONF"], "CONTAINERS_REGISTRIES_CONF="+pm["CONTAINERS_REGISTRIES_CONF"])
	if out, err := podCmd.CombinedOutput(); err != nil {
		t.Fatalf("the CronJob's container: %v\n%s", err, out)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", s3["PYSHIP_TEST_S3_ACCESS_KEY"])
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3["PYSHIP_TEST_S3_SECRET_KEY"])
	s3flags := []string{"--dest", dest, "--endpoint", s3["PYSHIP_TEST_S3_ENDPOINT"], "--identity-file", ident}
	code, out, errs := runCLI(t, append([]string{"backup", "list", "-o", "json"}, s3flags...)...)
	var l struct {
		Backups []struct {
			Sources []struct{ Name, Kind string }
		}
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 1 || len(l.Backups[0].Sources) != 1 ||
		l.Backups[0].Sources[0].Name != "db" || l.Backups[0].Sources[0].Kind != "postgres" {
		t.Fatalf("backup list: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, append([]string{"backup", "verify", "latest"}, s3flags...)...); code != ExitOK || !strings.Contains(out, " ok") {
		t.Fatalf("verifying the dump the CronJob took: exit %d\n%s\n%s", code, out, errs)
	}
}
