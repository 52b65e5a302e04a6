package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRealPodsMigrationFromTheSingleDeploymentLosesNothing: an app that the pyship before this
// one deployed with the rolling strategy runs as one Deployment APP selecting every pod of the
// app. Its next `pyship deploy`, under a steady load through the Service, moves it to release
// Deployments and rolls the new version out: no request fails, and APP is gone.
func TestRealPodsMigrationFromTheSingleDeploymentLosesNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, app, spec, st1 := firstRealRolling(ctx, t, "real-migrate")
	toSingleDeployment(ctx, t, c, "shop", st1.Active)
	url := serviceURL(ctx, t, c, "shop")
	waitServed(ctx, t, url, `"v1"`)

	app.writeSpec(strings.ReplaceAll(spec, "@V@", "v2"))
	l := startLoad(url, 50*time.Millisecond, 20*60*8)
	defer l.stop()
	code, _, errs := app.pyship(ctx, nil, "deploy")
	t.Logf("the deploy that migrated said:\n%s", errs)
	if code != ExitOK {
		t.Fatalf("deploy over the single Deployment: exit %d", code)
	}
	waitOnlyActive(ctx, t, c, "shop")
	l.stop()
	t.Logf("migration and rolling deploy: %d requests served (by version %v), %d failed", l.ok.Load(), l.bodies, l.failed.Load())
	if l.failed.Load() != 0 {
		t.Errorf("%d of %d requests through the Service failed while the app moved off Deployment shop: %q", l.failed.Load(), l.failed.Load()+l.ok.Load(), l.errs)
	}
	if l.bodies["v2"] == 0 {
		t.Errorf("the load saw versions %v, want v2", l.bodies)
	}
	if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, "shop", metav1.GetOptions{}); err == nil {
		t.Error("the single Deployment shop is still there")
	}
}

// toSingleDeployment turns the release Deployment APP-RELEASE of a freshly deployed app into
// what the pyship before this one left: the Deployment APP, selecting every pod of the app,
// serving, and no release Deployment.
func toSingleDeployment(ctx context.Context, t *testing.T, c *kube.Client, app, release string) {
	t.Helper()
	api := c.Core.AppsV1().Deployments(c.Namespace)
	d, err := api.Get(ctx, kube.DeploymentName(app, release), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	legacy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: app, Labels: d.Labels, Annotations: map[string]string{kube.AnnotationImage: d.Annotations[kube.AnnotationImage]}},
		Spec: *d.Spec.DeepCopy()}
	legacy.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{kube.LabelName: app}}
	if _, err := api.Create(ctx, legacy, metav1.CreateOptions{FieldManager: kube.FieldManager}); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 3*time.Minute, "Deployment "+app+" to be available", func() error {
		l, err := api.Get(ctx, app, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if l.Status.AvailableReplicas != *l.Spec.Replicas {
			return fmt.Errorf("%d of %d available", l.Status.AvailableReplicas, *l.Spec.Replicas)
		}
		return nil
	})
	fg := metav1.DeletePropagationForeground
	if err := api.Delete(ctx, d.Name, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	testsvc.Eventually(t, 3*time.Minute, "Deployment "+d.Name+" to go", func() error {
		if _, err := api.Get(ctx, d.Name, metav1.GetOptions{}); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
}
