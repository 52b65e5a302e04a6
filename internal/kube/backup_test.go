package kube

import (
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const testAgentImage = "registry.example/shop:agent-0123@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

func backupPlan() *plan.Plan {
	p := webPlan("shop", "rolling")
	p.NotifyWebhook = "https://hooks.example/T0"
	p.Backup = &plan.Backup{
		Schedule: "30 3 * * *", Destination: "s3://backups/shop", Endpoint: "https://s3.example", Region: "eu-west-1",
		Recipients: []string{"age1qqq", "age1ppp"}, SigningPublicKeys: []string{"pyship-sign-ed25519:pub1"},
		Retention: plan.Retention{KeepLast: 7, KeepWeekly: 4},
		Folders:   []string{"uploads"},
		SQLite:    []string{"uploads/app.db"},
	}
	return p
}

func cronJobOf(t *testing.T, b *Bundle) *batchv1.CronJob {
	t.Helper()
	for _, o := range b.Objects {
		if o.GetKind() == "CronJob" {
			var cj batchv1.CronJob
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cj); err != nil {
				t.Fatal(err)
			}
			return &cj
		}
	}
	return nil
}

func TestBackupCronJobRunsTheAgentImageOnTheAppsVolumes(t *testing.T) {
	opts := Options{Namespace: "shop", Image: testImage, AgentImage: testAgentImage, Secrets: map[string]string{"AWS_ACCESS_KEY_ID": "x"}}
	b, err := Render(backupPlan(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cj := cronJobOf(t, b)
	if cj == nil {
		t.Fatal("no CronJob rendered for a [backup] schedule")
	}
	if cj.Name != "shop-backup" || cj.Spec.Schedule != "30 3 * * *" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("cronjob %s schedule %q concurrency %q", cj.Name, cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != testAgentImage {
		t.Errorf("image %s", c.Image)
	}
	want := "backup now --prune --dest s3://backups/shop --endpoint https://s3.example --region eu-west-1 --recipient age1qqq --recipient age1ppp --signing-public-key pyship-sign-ed25519:pub1 --keep-last 7 --keep-weekly 4 --source uploads=/app/uploads --sqlite uploads-app-db=/app/uploads/app.db"
	if got := strings.Join(c.Args, " "); got != want {
		t.Errorf("args\n got %s\nwant %s", got, want)
	}
	if len(c.VolumeMounts) != 2 || c.VolumeMounts[0].MountPath != "/app/uploads" || pod.Volumes[0].PersistentVolumeClaim == nil || pod.Volumes[0].PersistentVolumeClaim.ClaimName != "shop-data-uploads" {
		t.Errorf("mounts %+v volumes %+v", c.VolumeMounts, pod.Volumes)
	}
	if len(c.EnvFrom) != 2 || c.EnvFrom[0].SecretRef.Name != "shop-secrets" || c.EnvFrom[1].SecretRef.Name != "shop-backup-credentials" || !*c.EnvFrom[1].SecretRef.Optional {
		t.Errorf("envFrom %+v", c.EnvFrom)
	}
	if e := c.Env[len(c.Env)-1]; e.Name != "PYSHIP_NOTIFY_WEBHOOK" || e.Value != "https://hooks.example/T0" {
		t.Errorf("a failed scheduled backup does not reach the webhook: env %+v", c.Env)
	}
	var signing *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "PYSHIP_BACKUP_SIGNING_KEY" {
			signing = &c.Env[i]
		}
	}
	if signing == nil || signing.ValueFrom == nil || signing.ValueFrom.SecretKeyRef == nil ||
		signing.ValueFrom.SecretKeyRef.Name != "shop-backup-signing" || signing.ValueFrom.SecretKeyRef.Key != "signing-key" ||
		signing.ValueFrom.SecretKeyRef.Optional != nil || signing.Value != "" {
		t.Errorf("the backup pod does not take its signing key from the Secret shop-backup-signing (key signing-key), required: %+v", signing)
	}
	if pod.Affinity == nil || pod.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels[LabelName] != "shop" {
		t.Errorf("the job does not run beside an app pod (ReadWriteOnce volumes): %+v", pod.Affinity)
	}
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.Capabilities.Drop[0] != "ALL" {
		t.Error("the backup pod is not restricted")
	}
	if lbl := cj.Spec.JobTemplate.Spec.Template.Labels[LabelName]; lbl == "shop" {
		t.Error("the backup pod carries the app's name label: the Service and PDB would count it")
	}
}

func TestBackupCronJobErrors(t *testing.T) {
	noSchedule := backupPlan()
	noSchedule.Backup.Schedule = ""
	if b, err := Render(noSchedule, Options{Image: testImage}); err != nil || cronJobOf(t, b) != nil {
		t.Errorf("no schedule: want no CronJob and no error, got %v", err)
	}
	cases := map[string]struct {
		edit func(*plan.Plan)
		opts Options
		want string
	}{
		"no agent image": {func(*plan.Plan) {}, Options{Image: testImage}, "agent image"},
		"folder without a volume": {func(p *plan.Plan) { p.Backup.Folders = []string{"cache"} }, Options{Image: testImage, AgentImage: testAgentImage},
			`"cache" is not a persistent data folder`},
		"sqlite outside a volume": {func(p *plan.Plan) { p.Backup.SQLite = []string{"app.db"} }, Options{Image: testImage, AgentImage: testAgentImage},
			`"app.db" is not inside a persistent data folder`},
		"postgres without pg_dump": {func(p *plan.Plan) { p.Backup.Postgres = []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}} }, Options{Image: testImage, AgentImage: testAgentImage},
			"no pg_dump"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := backupPlan()
			tc.edit(p)
			_, err := Render(p, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestBackupBeforeDeployWithoutASchedule(t *testing.T) {
	p := backupPlan()
	p.Backup.Schedule = ""
	p.Deploy.BackupBefore = true
	b, err := Render(p, Options{Image: testImage, AgentImage: testAgentImage})
	if err != nil {
		t.Fatal(err)
	}
	if cronJobOf(t, b) != nil {
		t.Error("a CronJob without a schedule")
	}
	if b.BackupBefore == nil {
		t.Fatal("no backup pod for [deploy] backup_before")
	}
	if args := strings.Join(b.BackupBefore.Spec.Containers[0].Args, " "); !strings.HasPrefix(args, "backup now --dest s3://backups/shop") || strings.Contains(args, "--prune") {
		t.Errorf("backup-before args: %s", args)
	}
	if _, err := Render(p, Options{Image: testImage}); err == nil || !strings.Contains(err.Error(), "agent image") {
		t.Errorf("backup_before without an agent image: %v", err)
	}
}

func TestBackupPodTakesPostgresDSNsFromTheSecret(t *testing.T) {
	p := backupPlan()
	p.Backup.Postgres = []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}}
	b, err := Render(p, Options{Image: testImage, AgentImage: testAgentImage, AgentHasPostgres: true, Secrets: map[string]string{"DATABASE_URL": "postgres://u:hunter2@db/shop"}})
	if err != nil {
		t.Fatal(err)
	}
	c := cronJobOf(t, b).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.HasSuffix(args, "--postgres db=env:DATABASE_URL") || strings.Contains(args, "hunter2") {
		t.Errorf("args %s: want the DSN by variable, never its value", args)
	}
	if c.EnvFrom[0].SecretRef.Name != "shop-secrets" {
		t.Errorf("the pod does not read the app's Secret: %+v", c.EnvFrom)
	}
}

func TestRestoreArgs(t *testing.T) {
	now := []string{"backup", "now", "--prune", "--dest", "s3://b/p", "--recipient", "age1x", "--keep-last", "7", "--source", "data=/app/data", "--postgres", "db=env:DB", "--release", "r1"}
	got := strings.Join(restoreArgs(now, "ID", "/id/key"), " ")
	want := "backup restore ID --identity-file /id/key --dest s3://b/p --recipient age1x --source data=/app/data --postgres db=env:DB"
	if got != want {
		t.Errorf("restoreArgs:\n got %s\nwant %s", got, want)
	}
}
