package kube

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyship/pyship/internal/backup/schedule"
)

// The schedules pyship accepts ([backup] schedule, checked by `pyship check`) are exactly those
// the real API server accepts for a CronJob: each is sent as a server-side dry-run create, and
// the verdicts must agree.
func TestBackupSchedulesAgreeWithTheAPIServer(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, expr := range []string{
		"0 3 * * *", "*/15 * * * *", "5-10/2 * * * *", "0 0,12 * * *", "30 2 * * mon-fri", "0 12 * dec *",
		"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@every 90m",
		"0 0 * * 7", "0 0 * * 0", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *",
		"5-1 * * * *", "@often", "* * * * * *", "* * * *", "CRON_TZ=UTC 0 3 * * *", "TZ=UTC 0 3 * * *",
		"0 0 ? * *", "0 0 L * *", "0 0 * * 1#2", "0 0 1-31/40 * *",
		" @daily", "@daily ", "@every 1h ", " 0 3 * * *", "0 3 * * * ",
	} {
		cj := &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "sched-"},
			Spec: batchv1.CronJobSpec{Schedule: expr, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
			}}}},
		}
		_, apiErr := c.Core.BatchV1().CronJobs(c.Namespace).Create(ctx, cj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		_, ourErr := schedule.Parse(expr)
		if (apiErr == nil) != (ourErr == nil) {
			t.Errorf("schedule %q: the API server says %v, pyship says %v", expr, apiErr, ourErr)
		}
	}
}
