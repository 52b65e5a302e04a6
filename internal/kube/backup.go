package kube

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	watchtools "k8s.io/client-go/tools/watch"
)

// BackupCredentialsSecret is the Secret the backup CronJob also reads its environment from
// (optional): S3 credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) kept apart from the
// app's own secrets.
func BackupCredentialsSecret(app string) string { return app + "-backup-credentials" }

// BackupSigningSecret is the Secret the backup pod takes the private half of the backup
// signing key from (key SigningSecretKey): `kubectl create secret generic APP-backup-signing
// --from-file=signing-key=backup-signing.key`.
func BackupSigningSecret(app string) string { return app + "-backup-signing" }

// SigningSecretKey is the key of BackupSigningSecret that holds the signing key.
const SigningSecretKey = "signing-key"

// signingKeyEnv is the variable the backup pod reads the signing key from.
const signingKeyEnv = "PYSHIP_BACKUP_SIGNING_KEY"

// BackupCronJobName is the CronJob of the app's scheduled backups.
func BackupCronJobName(app string) string { return app + "-backup" }

// needsBackupPod is true when the plan backs up from inside the cluster: on a schedule, or
// before each deploy ([deploy] backup_before).
func (r *renderer) needsBackupPod() bool {
	return r.p.Backup != nil && (r.p.Backup.Schedule != "" || r.p.Deploy.BackupBefore)
}

// backupCronJob renders the app's scheduled backup when the plan's [backup] table has a
// schedule: a CronJob running backupPod with `--prune`, one run at a time.
func (r *renderer) backupCronJob(tmpl *corev1.PodTemplateSpec) runtime.Object {
	if tmpl == nil || r.p.Backup.Schedule == "" {
		return nil
	}
	tmpl = tmpl.DeepCopy()
	c := &tmpl.Spec.Containers[0]
	c.Args = append(c.Args[:2:2], append([]string{"--prune"}, c.Args[2:]...)...)
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: r.meta(BackupCronJobName(r.app)),
		Spec: batchv1.CronJobSpec{
			Schedule:                   r.p.Backup.Schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			StartingDeadlineSeconds:    ptr(int64(600)),
			SuccessfulJobsHistoryLimit: ptr(int32(3)),
			FailedJobsHistoryLimit:     ptr(int32(3)),
			JobTemplate:                batchv1.JobTemplateSpec{Spec: backupJobSpec(*tmpl)},
		},
	}
}

func backupJobSpec(tmpl corev1.PodTemplateSpec) batchv1.JobSpec {
	return batchv1.JobSpec{
		BackoffLimit:            ptr(int32(2)),
		TTLSecondsAfterFinished: ptr(int32(7 * 24 * 3600)),
		Template:                tmpl,
	}
}

// backupPod is the pod that backs the app up from inside the cluster: pyship's own agent
// image (Options.AgentImage) running `pyship backup now`, the app's persistent volumes
// mounted where the app sees them (so the spec's paths hold), the app's Secret and
// BackupCredentialsSecret as its environment (S3 credentials, by variable name), on the node
// of an app pod (the volumes are ReadWriteOnce). Nil when the plan needs none.
func (r *renderer) backupPod() (*corev1.PodTemplateSpec, error) {
	if !r.needsBackupPod() {
		return nil, nil
	}
	b := r.p.Backup
	if r.o.AgentImage == "" {
		return nil, fmt.Errorf("render: [backup] on Kubernetes runs in pyship's agent image, and none was given (pyship deploy pushes it beside the app image)")
	}
	if len(b.Postgres) > 0 && !r.o.AgentHasPostgres {
		return nil, fmt.Errorf("render: [backup] postgres: pyship's own agent image has no pg_dump; give it a base that has (--agent-base, e.g. an image with Debian's postgresql-client) or an image of yours (--agent-image), or take those backups with `pyship backup now` where pg_dump is installed")
	}
	args := []string{"backup", "now", "--dest", b.Destination}
	if b.Endpoint != "" {
		args = append(args, "--endpoint", b.Endpoint)
	}
	if b.Region != "" {
		args = append(args, "--region", b.Region)
	}
	for _, rc := range b.Recipients {
		args = append(args, "--recipient", rc)
	}
	for _, k := range b.SigningPublicKeys {
		args = append(args, "--signing-public-key", k)
	}
	for _, keep := range []struct {
		flag string
		n    int
	}{{"--keep-last", b.Retention.KeepLast}, {"--keep-daily", b.Retention.KeepDaily}, {"--keep-weekly", b.Retention.KeepWeekly}} {
		if keep.n > 0 {
			args = append(args, keep.flag, strconv.Itoa(keep.n))
		}
	}
	volumes := map[string]bool{}
	for _, d := range r.p.Data {
		if d.Persistent {
			volumes[path.Clean(d.Path)] = true
		}
	}
	var mounts []corev1.VolumeMount
	var vols []corev1.Volume
	mounted := map[string]bool{}
	mount := func(folder string) {
		if mounted[folder] {
			return
		}
		mounted[folder] = true
		name := "data-" + dnsName(folder)
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: path.Join(AppDir, folder)})
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.pvcName(folder)},
		}})
	}
	for _, f := range b.Folders {
		f = path.Clean(f)
		if !volumes[f] {
			return nil, fmt.Errorf("render: [backup] folders: %q is not a persistent data folder, so it has no volume on Kubernetes to back up (declare it in [data] persistent, or leave it out of [backup] folders)", f)
		}
		mount(f)
		args = append(args, "--source", dnsName(f)+"="+path.Join(AppDir, f))
	}
	for _, f := range b.SQLite {
		f = path.Clean(f)
		folder := ""
		for v := range volumes {
			if f == v || len(f) > len(v) && f[:len(v)+1] == v+"/" {
				folder = v
			}
		}
		if folder == "" {
			return nil, fmt.Errorf("render: [backup] sqlite: %q is not inside a persistent data folder, so it has no volume on Kubernetes (keep the database under a [data] persistent folder)", f)
		}
		mount(folder)
		args = append(args, "--sqlite", dnsName(f)+"="+path.Join(AppDir, f))
	}
	for _, pg := range b.Postgres {
		// The DSN stays in the app's Secret: the pod reads the variable it names.
		args = append(args, "--postgres", pg.Name+"=env:"+pg.Secret)
	}
	mounts = append(mounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	vols = append(vols, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})

	no, yes := false, true
	uid := int64(65532)
	optional := true
	envFrom := []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: BackupCredentialsSecret(r.app)}, Optional: &optional,
	}}}
	if r.p.SecretsFile != "" || len(r.o.Secrets) > 0 {
		envFrom = append([]corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.secretName()},
		}}}, envFrom...)
	}
	// Not the app's name label: the backup's pods are no replicas of the app's Service, PDB or
	// NetworkPolicy.
	podLabels := map[string]string{LabelName: r.app + "-backup", LabelManagedBy: ManagedBy, LabelApp: r.app}
	pod := corev1.PodSpec{
		ServiceAccountName:           r.app,
		AutomountServiceAccountToken: &no,
		EnableServiceLinks:           &no,
		RestartPolicy:                corev1.RestartPolicyNever,
		NodeSelector:                 r.o.NodeSelector,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:            "backup",
			Image:           r.o.AgentImage,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            args,
			EnvFrom:         envFrom,
			Env:             r.backupEnv(),
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				// Part buffers grow for sources past 5 GB (at most 3 × 128 MiB).
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("768Mi")},
			},
			SecurityContext: restrictedContainer(),
			VolumeMounts:    mounts,
		}},
		Volumes: vols,
	}
	if len(mounted) > 0 {
		// ReadWriteOnce volumes attach to one node: run beside a pod of the app.
		pod.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: r.selector()},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	}
	return &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: pod}, nil
}

// backupEnv is the backup pod's environment: the signing key from BackupSigningSecret; a failed backup posts to the app's webhook
// (pyship backup now reads PYSHIP_NOTIFY_WEBHOOK), since nobody watches a CronJob's output.
func (r *renderer) backupEnv() []corev1.EnvVar {
	env := []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}, {Name: "TMPDIR", Value: "/tmp"},
		// The signing key lives in the cluster's secret store, never in the bucket or a manifest;
		// a pod without it does not start, and says which Secret is missing.
		{Name: signingKeyEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: BackupSigningSecret(r.app)}, Key: SigningSecretKey,
		}}}}
	if r.p.NotifyWebhook != "" {
		env = append(env, corev1.EnvVar{Name: "PYSHIP_NOTIFY_WEBHOOK", Value: r.p.NotifyWebhook})
	}
	return env
}

// BackupError is a backup Job that did not complete, with what its pods said.
type BackupError struct {
	Job       string
	Reason    string
	Diagnosis []string
}

func (e *BackupError) Error() string {
	msg := fmt.Sprintf("job %s did not complete: %s", e.Job, e.Reason)
	for _, d := range e.Diagnosis {
		msg += "\n  " + d
	}
	return msg
}

// RunBackup runs the bundle's backup pod once as a Job, its backup tagged with release (the
// release a deploy is about to replace, for `pyship rollback --with-data`), and watches it
// until it completes. A Job that fails, or does not complete before ctx ends, is a
// *BackupError with a diagnosis of its pods; the Job is left for its logs and removed by its
// TTL.
func (c *Client) RunBackup(ctx context.Context, b *Bundle, release string, progress Progress) error {
	if b.BackupBefore == nil {
		return fmt.Errorf("the plan asks for no backup before a deploy ([deploy] backup_before)")
	}
	// Without the signing key the pod would not start; say which Secret is missing instead.
	if err := c.CheckSigningSecret(ctx, b); err != nil {
		return err
	}
	tmpl := b.BackupBefore.DeepCopy()
	ctr := &tmpl.Spec.Containers[0]
	ctr.Args = append(ctr.Args, "--release", release)
	if pods, err := c.Core.CoreV1().Pods(b.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelName + "=" + b.App, Limit: 1}); err == nil && len(pods.Items) == 0 {
		tmpl.Spec.Affinity = nil // no app pod to run beside (scaled down): the volumes are free
	}
	return c.runJob(ctx, b, "backup-"+release, tmpl, "backup", progress)
}

// CheckSigningSecret fails when the Secret the backup pod takes its signing key from
// (BackupSigningSecret) cannot be read, saying how to create it.
func (c *Client) CheckSigningSecret(ctx context.Context, b *Bundle) error {
	name := BackupSigningSecret(b.App)
	if _, err := c.Core.CoreV1().Secrets(b.Namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
		return fmt.Errorf("reading the backup signing key from Secret %s/%s: %w (create it from the key `pyship backup keygen --signing-key-file FILE` made: kubectl -n %s create secret generic %s --from-file=%s=FILE)",
			b.Namespace, name, err, b.Namespace, name, SigningSecretKey)
	}
	return nil
}

// IdentityMount is where the restore pod finds the age identity of RestoreData's Secret.
const IdentityMount = "/var/run/pyship/identity"

// RestoreData puts backup id back into the app's volumes, in place: every Deployment of the
// app is scaled to zero and its pods are waited out (nothing writes while the data changes,
// and the ReadWriteOnce volumes are free), then the backup pod runs `pyship backup restore`
// as a Job, with the age identity from the Secret identitySecret (key "identity", or its only
// key) mounted read-only: the identity stays in the cluster's secret store, pyship never
// copies it. The app stays scaled down afterwards: a rollback or deploy brings it back.
func (c *Client) RestoreData(ctx context.Context, b *Bundle, id, identitySecret string, progress Progress) error {
	if b.BackupPod == nil {
		return fmt.Errorf("the plan has no [backup] table: nothing to restore from")
	}
	sec, err := c.Core.CoreV1().Secrets(b.Namespace).Get(ctx, identitySecret, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the age identity from Secret %s/%s: %w (create it from your identity file: kubectl -n %s create secret generic %s --from-file=identity=backup.key)",
			b.Namespace, identitySecret, err, b.Namespace, identitySecret)
	}
	key := "identity"
	if _, ok := sec.Data[key]; !ok {
		if len(sec.Data) != 1 {
			return fmt.Errorf("Secret %s/%s has no key \"identity\" (the age identity file)", b.Namespace, identitySecret)
		}
		for k := range sec.Data {
			key = k
		}
	}
	if err := c.suspendBackups(ctx, b.App, true); err != nil {
		return fmt.Errorf("suspending the scheduled backups of %s during the restore: %w", b.App, err)
	}
	defer func() {
		if err := c.suspendBackups(context.WithoutCancel(ctx), b.App, false); err != nil {
			progress.printf("warning: resuming the scheduled backups of %s: %v (kubectl patch cronjob %s -p '{\"spec\":{\"suspend\":false}}')", b.App, err, BackupCronJobName(b.App))
		}
	}()
	if err := c.scaleAppToZero(ctx, b.App, progress); err != nil {
		return err
	}
	tmpl := b.BackupPod.DeepCopy()
	tmpl.Spec.Affinity = nil // no app pod runs now, and the volumes are free
	ctr := &tmpl.Spec.Containers[0]
	ctr.Args = restoreArgs(ctr.Args, id, path.Join(IdentityMount, key))
	// A restore reads backups and checks them with the pinned public keys: it never needs the
	// private signing key.
	ctr.Env = slices.DeleteFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == signingKeyEnv })
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "identity", MountPath: IdentityMount, ReadOnly: true})
	tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: "identity", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: identitySecret, DefaultMode: ptr(int32(0o440)),
	}}})
	return c.runJob(ctx, b, "restore", tmpl, "restore", progress)
}

// restoreArgs turns the backup pod's `backup now ...` arguments into those of `backup restore
// ID` with the same destination and sources (in-place restores need the PostgreSQL DSNs
// again), without the flags only `now` has.
func restoreArgs(now []string, id, identityFile string) []string {
	out := []string{"backup", "restore", id, "--identity-file", identityFile}
	for i := 2; i < len(now); i++ {
		switch now[i] {
		case "--prune":
		case "--keep-last", "--keep-daily", "--keep-weekly", "--release":
			i++ // and its value
		default:
			out = append(out, now[i])
		}
	}
	return out
}

// scaleAppToZero scales every Deployment of app to zero replicas and waits until none of its
// pods is left.
func (c *Client) scaleAppToZero(ctx context.Context, app string, progress Progress) error {
	api := c.Core.AppsV1().Deployments(c.Namespace)
	ds, err := api.List(ctx, metav1.ListOptions{LabelSelector: LabelApp + "=" + app})
	if err != nil {
		return fmt.Errorf("listing the Deployments of %s: %w", app, err)
	}
	raw := []byte(`{"spec":{"replicas":0}}`)
	for _, d := range ds.Items {
		if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
			continue
		}
		if _, err := api.Patch(ctx, d.Name, types.MergePatchType, raw, metav1.PatchOptions{FieldManager: stateManager}); err != nil {
			return fmt.Errorf("scaling %s/%s to zero: %w", c.Namespace, d.Name, err)
		}
		progress.printf("scaled %s to zero while its data is restored", d.Name)
	}
	// The app's pods and a scheduled backup in progress (its CronJob is suspended meanwhile
	// by the caller) must be gone before the data changes.
	return c.waitNoPods(ctx, LabelApp+"="+app, progress)
}

// suspendBackups suspends (or resumes) the app's backup CronJob, when there is one.
func (c *Client) suspendBackups(ctx context.Context, app string, suspend bool) error {
	raw := []byte(fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend))
	_, err := c.Core.BatchV1().CronJobs(c.Namespace).Patch(ctx, BackupCronJobName(app), types.MergePatchType, raw, metav1.PatchOptions{FieldManager: stateManager})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// waitNoPods waits until no pod that matches the label selector sel runs (finished pods of
// Jobs stay until their Job goes: they do not count).
func (c *Client) waitNoPods(ctx context.Context, sel string, progress Progress) error {
	pods := c.Core.CoreV1().Pods(c.Namespace)
	for {
		l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("listing the pods %s: %w", sel, err)
		}
		running := 0
		for _, p := range l.Items {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				running++
			}
		}
		if running == 0 {
			return nil
		}
		progress.printf("waiting for %d pod(s) (%s) to end", running, sel)
		w, err := pods.Watch(ctx, metav1.ListOptions{LabelSelector: sel, ResourceVersion: l.ResourceVersion})
		if err != nil {
			return fmt.Errorf("watching the pods %s: %w", sel, err)
		}
		for ev := range w.ResultChan() {
			if ev.Type != watch.Added {
				break // a pod ended or went: count again
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return fmt.Errorf("the pods %s did not end: %w", sel, ctx.Err())
		}
	}
}

// runJob runs tmpl once as the Job APP-suffix-TIME and watches it until it completes; what
// names the work in messages ("backup", "restore").
func (c *Client) runJob(ctx context.Context, b *Bundle, suffix string, tmpl *corev1.PodTemplateSpec, what string, progress Progress) error {
	// The app's part is shortened, never the time: two runs must not share a name.
	tail := fmt.Sprintf("-%s-%d", suffix, time.Now().Unix())
	app := b.App
	if len(app)+len(tail) > 63 {
		app = strings.TrimRight(app[:max(1, 63-len(tail))], "-")
	}
	name := app + tail
	if len(name) > 63 {
		name = name[:63]
	}
	spec := backupJobSpec(*tmpl)
	spec.BackoffLimit = ptr(int32(0)) // a command waits on it: one try, then it says why
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: strings.TrimRight(name, "-"), Namespace: b.Namespace, Labels: tmpl.Labels},
		Spec:       spec,
	}
	job, err := c.Core.BatchV1().Jobs(b.Namespace).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("starting the %s job of %s: %w", what, b.App, err)
	}
	progress.printf("%s job %s started", what, job.Name)
	api := c.Core.BatchV1().Jobs(b.Namespace)
	var failure string
	_, err = watchtools.UntilWithSync(ctx, byName(ctx, job.Name, api.List, api.Watch), &batchv1.Job{}, nil, func(ev watch.Event) (bool, error) {
		j, ok := ev.Object.(*batchv1.Job)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("the %s job %s was deleted while waiting for it", what, j.Name)
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return true, nil
			case batchv1.JobFailed:
				failure = cmp.Or(cond.Message, cond.Reason, "failed")
				return true, nil
			}
		}
		return false, nil
	})
	if err == nil && failure == "" {
		progress.printf("%s job %s complete", what, job.Name)
		return nil
	}
	be := &BackupError{Job: b.Namespace + "/" + job.Name, Reason: failure}
	if be.Reason == "" {
		if ctx.Err() != nil {
			be.Reason = "timed out waiting for it"
		} else {
			be.Reason = err.Error()
		}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	be.Diagnosis = c.Diagnose(dctx, "job-name="+job.Name)
	// A Job given up on must not go on beside what comes next (a retry, a rollback that
	// scales the app up): it is deleted with its pods, and they are waited out.
	fg := metav1.DeletePropagationForeground
	if err := api.Delete(dctx, job.Name, metav1.DeleteOptions{PropagationPolicy: &fg}); err == nil {
		_ = c.waitNoPods(dctx, "job-name="+job.Name, nil)
	}
	return be
}
