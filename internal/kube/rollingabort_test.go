package kube

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A rolling update takes an abort request (`pyship abort`, or Ctrl-C in the deploying
// command) as the engine of the other strategies does: it stops waiting, and the last good
// Deployment comes back at once.
func TestRollingDeployTakesAbort(t *testing.T) {
	c := newCluster(t)
	p := appPlan("ra", "rolling")
	v1 := c.render(t, p, Options{Image: image("a1")})
	opts := DeployOptions{Replicas: 2, Prune: true, Progress: logProgress(t)}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	v2 := c.render(t, p, Options{Image: image("b2"), NodeSelector: unschedulable})
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Deploy(ctxFor(t, 3*time.Minute), v2, opts) }()
	testsvc.Eventually(t, 30*time.Second, "the rolling update of v2 to be recorded", func() error {
		st, err := c.ReadState(ctxFor(t, 5*time.Second), "ra")
		if err != nil || st.Candidate != v2.Release {
			return fmt.Errorf("state %+v, %v", st, err)
		}
		return nil
	})
	if err := c.Request(ctxFor(t, 5*time.Second), "ra", RequestAbort); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the deploy did not take the abort within a minute")
	}
	if err == nil || !strings.Contains(err.Error(), "aborted by the user") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("deploy after abort: %v", err)
	}
	if took := time.Since(start); took > 2*time.Minute {
		t.Errorf("the aborted deploy took %s", took)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 10*time.Second), "ra", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != image("a1") {
		t.Errorf("after the abort the Deployment runs %s, want %s", img, image("a1"))
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "ra")
	if st.Active != v1.Release || st.Failed != v2.Release || st.Candidate != "" || st.Request != "" {
		t.Errorf("state after the abort: %+v", st)
	}
}
