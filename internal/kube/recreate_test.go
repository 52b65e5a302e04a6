package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// podOverlap watches the pods of app and records every pod created while a pod of another
// release still existed (running or terminating): what a ReadWriteOnce volume cannot take.
type podOverlap struct {
	mu       sync.Mutex
	pods     map[string]string // name -> release, from creation until the object is gone
	overlaps []string
	created  map[string]int // release -> pods created while watching
	deleted  map[string]int // release -> pods gone while watching
	ended    bool
}

func watchOverlap(t *testing.T, c *cluster, app string) *podOverlap {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sel := metav1.ListOptions{LabelSelector: LabelName + "=" + app}
	list, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	o := &podOverlap{pods: map[string]string{}, created: map[string]int{}, deleted: map[string]int{}}
	for _, p := range list.Items {
		o.pods[p.Name] = p.Labels[LabelRelease]
	}
	sel.ResourceVersion = list.ResourceVersion
	w, err := c.Core.CoreV1().Pods(c.Namespace).Watch(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			rel := p.Labels[LabelRelease]
			o.mu.Lock()
			switch ev.Type {
			case watch.Added:
				for name, other := range o.pods {
					if other != rel {
						o.overlaps = append(o.overlaps, fmt.Sprintf("pod %s of %s created while pod %s of %s existed", p.Name, rel, name, other))
					}
				}
				o.pods[p.Name] = rel
				o.created[rel]++
			case watch.Deleted:
				delete(o.pods, p.Name)
				o.deleted[rel]++
			}
			o.mu.Unlock()
		}
		o.mu.Lock()
		o.ended = ctx.Err() == nil
		o.mu.Unlock()
	}()
	return o
}

func (o *podOverlap) check(t *testing.T, what string, gone, started string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		t.Fatalf("%s: the pod watch ended early: the order of pods cannot be judged", what)
	}
	if len(o.overlaps) > 0 {
		t.Errorf("%s: releases overlapped:\n%s", what, strings.Join(o.overlaps, "\n"))
	}
	if o.deleted[gone] == 0 || o.created[started] == 0 {
		t.Errorf("%s: saw %d pod(s) of %s go and %d of %s created; want both, or the order checks nothing", what, o.deleted[gone], gone, o.created[started], started)
	}
}

// A recreate deploy on the cluster removes every pod of the serving release, and waits until
// they are gone (not just terminating), before the new release's first pod is created; a
// release that fails is stopped, and gone, before the previous one starts again; rollback
// goes the same way.
func TestRecreateNeverRunsTwoReleases(t *testing.T) {
	c := newCluster(t)
	p := appPlan("rc", "recreate")
	opts := DeployOptions{Replicas: 2, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
	v1 := c.render(t, p, Options{Image: image("a1")})
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, c, "rc", v1.Release, 2)

	w := watchOverlap(t, c, "rc")
	v2 := c.render(t, p, Options{Image: image("b2")})
	if err := c.Deploy(ctxFor(t, 2*time.Minute), v2, opts); err != nil {
		t.Fatal(err)
	}
	w.check(t, "deploying v2", v1.Release, v2.Release)
	if h, _ := c.Health(ctxFor(t, 5*time.Second), "rc", v2.Release); h.Ready != 2 {
		t.Errorf("after the deploy: %d ready pods of v2, want 2", h.Ready)
	}
	waitEndpoints(t, c, "rc", v2.Release, 2)

	// v3 never schedules: it is stopped and gone before v2 starts again.
	w = watchOverlap(t, c, "rc")
	v3 := c.render(t, p, Options{Image: image("c3"), NodeSelector: unschedulable})
	var said []string
	progress := func(format string, args ...any) {
		said = append(said, fmt.Sprintf(format, args...))
		t.Logf(format, args...)
	}
	err := c.Deploy(ctxFor(t, time.Minute), v3, DeployOptions{Replicas: 2, StartupTimeout: 8 * time.Second, Progress: progress})
	for _, l := range said {
		// v2 restarts after v3's startup time has passed: its pods not created yet are not late.
		if strings.Contains(l, "removing failed replicas of "+v2.Release) {
			t.Errorf("the restarted release was judged failed before its pods could start: %q", l)
		}
	}
	t.Logf("the failed deploy said:\n%v", err)
	if err == nil || !strings.Contains(err.Error(), "unschedulable") || !strings.Contains(err.Error(), "rolled back: release "+v2.Release+" runs again (recreate") {
		t.Fatalf("deploying an unschedulable release: got %v, want the diagnosis and the rollback, saying there was downtime", err)
	}
	w.check(t, "rolling v3 back", v2.Release, v2.Release)
	waitEndpoints(t, c, "rc", v2.Release, 2)
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "rc")
	if st.Active != v2.Release || st.Failed != v3.Release || st.Candidate != "" {
		t.Errorf("state: active %q failed %q candidate %q, want %q and %q", st.Active, st.Failed, st.Candidate, v2.Release, v3.Release)
	}

	// pyship rollback: v2 goes before v1 comes back.
	w = watchOverlap(t, c, "rc")
	if err := c.Rollback(ctxFor(t, 2*time.Minute), v2, opts); err != nil {
		t.Fatal(err)
	}
	w.check(t, "rolling back to v1", v2.Release, v1.Release)
	waitEndpoints(t, c, "rc", v1.Release, 2)
	if st, _ := c.ReadState(ctxFor(t, 5*time.Second), "rc"); st.Active != v1.Release || st.Previous != v2.Release {
		t.Errorf("state after the rollback: active %q previous %q, want %q and %q", st.Active, st.Previous, v1.Release, v2.Release)
	}
}
