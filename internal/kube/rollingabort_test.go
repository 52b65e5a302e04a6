package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A rolling deploy takes an abort request (`pyship abort`, or Ctrl-C in the deploying
// command) in the engine, as the other strategies do: the new release is stopped and the
// serving one keeps all its replicas.
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
	h, _ := c.Health(ctxFor(t, 5*time.Second), "ra", v1.Release)
	d2, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 10*time.Second), "ra-"+v2.Release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Ready != 2 || d2.Spec.Replicas == nil || *d2.Spec.Replicas != 0 {
		t.Errorf("after the abort: v1 has %d ready pods (want 2), v2 replicas %v (want 0)", h.Ready, d2.Spec.Replicas)
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "ra")
	if st.Active != v1.Release || st.Failed != v2.Release || st.Candidate != "" || st.Request != "" {
		t.Errorf("state after the abort: %+v", st)
	}
}

// An abort request (Ctrl-C) on the first release of an app, of every strategy, stops it: nothing
// of the app is left serving, no release shows in status, and the name deploys again.
func TestFirstReleaseAbortLeavesNothing(t *testing.T) {
	c := newCluster(t)
	for _, strategy := range []string{"rolling", "blue-green", "canary", "recreate"} {
		app := "first-" + strings.ReplaceAll(strategy, "-", "")
		p := appPlan(app, strategy)
		opts := DeployOptions{Replicas: 2, Steps: []int{50, 100}, Prune: true, Progress: logProgress(t)}
		v1 := c.render(t, p, Options{Image: image("a1"), NodeSelector: unschedulable})
		done := make(chan error, 1)
		go func() { done <- c.Deploy(ctxFor(t, 3*time.Minute), v1, opts) }()
		testsvc.Eventually(t, 30*time.Second, "the first release of "+app+" to be recorded", func() error {
			st, err := c.ReadState(ctxFor(t, 5*time.Second), app)
			if err != nil || st.Candidate != v1.Release {
				return fmt.Errorf("state %+v, %v", st, err)
			}
			return nil
		})
		if err := c.Request(ctxFor(t, 5*time.Second), app, RequestAbort); err != nil {
			t.Fatal(err)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s: the first deploy did not take the abort within a minute", strategy)
		}
		if err == nil || !strings.Contains(err.Error(), "aborted by the user") || !strings.Contains(err.Error(), "nothing of "+app+" is left") {
			t.Errorf("%s: the aborted first deploy returned %v", strategy, err)
		}
		testsvc.Eventually(t, 30*time.Second, "nothing of "+app+" to be left", func() error {
			st, err := c.Status(ctxFor(t, 5*time.Second), app)
			if err != nil {
				return err
			}
			if len(st.Releases) != 0 || st.State.Active != "" || st.State.Candidate != "" {
				return fmt.Errorf("status %+v", st)
			}
			svcs, err := c.Core.CoreV1().Services(c.Namespace).List(ctxFor(t, 5*time.Second), metav1.ListOptions{LabelSelector: LabelName + "=" + app})
			if err != nil || len(svcs.Items) != 0 {
				return fmt.Errorf("services left: %v %v", svcs, err)
			}
			if n := len(podNames(t, c, app)); n != 0 {
				return fmt.Errorf("%d pod(s) left", n)
			}
			return nil
		})
		// The name is free: a good first release deploys.
		good := c.render(t, p, Options{Image: image("b2")})
		if err := c.Deploy(ctxFor(t, time.Minute), good, opts); err != nil {
			t.Fatalf("%s: deploying again after the aborted first release: %v", strategy, err)
		}
	}
}

// `pyship abort` of a first release whose deploy was killed stops it through the engine and
// removes the app, which never served.
func TestKilledFirstReleaseAbortLeavesNothing(t *testing.T) {
	c := newCluster(t)
	p := appPlan("firstkill", "rolling")
	opts := DeployOptions{Replicas: 2, Prune: true, Progress: logProgress(t)}
	v1 := c.render(t, p, Options{Image: image("a1"), NodeSelector: unschedulable})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	o := opts
	o.Progress = killAfter(t, "waiting for", cancel)
	err := c.Deploy(ctx, v1, o)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("the killed first deploy: %v, want it interrupted", err)
	}
	if st, _ := c.ReadState(ctxFor(t, 5*time.Second), "firstkill"); st.Candidate != v1.Release {
		t.Fatalf("after the kill: candidate %q, want %q recorded for abort", st.Candidate, v1.Release)
	}
	if err := c.Abort(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctxFor(t, 5*time.Second), "firstkill")
	if err != nil || len(st.Releases) != 0 || st.State.Candidate != "" {
		t.Errorf("after aborting the killed first release: %+v %v, want nothing left", st, err)
	}
}
