package kube

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// legacyDeploy rolls b out as the pyship before this one did with the rolling strategy: one
// Deployment APP, selecting every pod of the app, updated in place by its own controller, and
// the Deployments of the active and the previous release saved in the state.
func legacyDeploy(t *testing.T, c *cluster, b *Bundle, previous *Bundle) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	lb := ForKubectl(b)
	dep := lb.Deployment()
	if _, err := c.Apply(ctx, lb, ApplyOptions{Prune: true, Progress: logProgress(t)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctx, b.App, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.waitDeployment(ctx, b.App, waitFor{generation: d.Generation, replicas: -1}, logProgress(t)); err != nil {
		t.Fatal(err)
	}
	st := &State{Active: b.Release, Phase: PhaseDone}
	if st.LastGoodJSON, err = json.Marshal(dep.Object); err != nil {
		t.Fatal(err)
	}
	if previous != nil {
		old, _ := c.ReadState(ctx, b.App)
		st.Previous, st.PreviousJSON = previous.Release, old.LastGoodJSON
	}
	if err := c.writeState(ctx, b.App, st); err != nil {
		t.Fatal(err)
	}
}

// readyEndpoints watches the Service's EndpointSlices and records the fewest ready endpoints
// seen once there were want; stop ends the watch and returns that minimum.
func readyEndpoints(t *testing.T, c *cluster, svc string, want int) (stop func() int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := c.Core.DiscoveryV1().EndpointSlices(c.Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var mu sync.Mutex
	least, started := -1, false
	slices := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*discoveryv1.EndpointSlice)
			if !ok {
				continue
			}
			n := 0
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					n++
				}
			}
			mu.Lock()
			slices[s.Name] = n
			if ev.Type == watch.Deleted {
				delete(slices, s.Name)
			}
			total := 0
			for _, v := range slices {
				total += v
			}
			if total >= want {
				started = true
			}
			if started && (least < 0 || total < least) {
				least = total
			}
			mu.Unlock()
		}
	}()
	return func() int {
		w.Stop()
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return least
	}
}

// TestRollingMigratesFromTheSingleDeployment: an app that the pyship before this one deployed
// with the rolling strategy (Deployment APP, the last good Deployments in its state), or that
// kubectl applied from `pyship render` (APP, no state), is moved to release Deployments by its
// next deploy without its Service ever having fewer ready endpoints than its replicas:
// APP-ACTIVE takes over before APP goes. The previous release stays reachable by rollback, and
// nothing of the old form is left.
func TestRollingMigratesFromTheSingleDeployment(t *testing.T) {
	c := newCluster(t)
	for _, kubectl := range []bool{false, true} {
		app := map[bool]string{false: "mig", true: "migk"}[kubectl]
		p := appPlan(app, "rolling")
		opts := DeployOptions{Replicas: 3, Prune: true, RollbackWindow: time.Hour, Progress: logProgress(t)}
		v1 := c.render(t, p, Options{Image: image("a1")})
		v2 := c.render(t, p, Options{Image: image("b2")})
		if kubectl {
			if _, err := c.Apply(ctxFor(t, time.Minute), ForKubectl(v2), ApplyOptions{Progress: logProgress(t)}); err != nil {
				t.Fatal(err)
			}
			if err := c.Core.CoreV1().Secrets(c.Namespace).Delete(ctxFor(t, 5*time.Second), ApplySetParentName(app), metav1.DeleteOptions{}); err != nil {
				t.Fatal(err) // kubectl apply of the render writes no pyship inventory or state
			}
		} else {
			legacyDeploy(t, c, v1, nil)
			legacyDeploy(t, c, v2, v1)
		}
		waitEndpoints(t, c, app, v2.Release, 3)

		stop := readyEndpoints(t, c, app, 3)
		v3 := c.render(t, p, Options{Image: image("c3")})
		if err := c.Deploy(ctxFor(t, 2*time.Minute), v3, opts); err != nil {
			t.Fatal(err)
		}
		waitEndpoints(t, c, app, v3.Release, 3)
		if least := stop(); least < 3 {
			t.Errorf("kubectl %v: during the migration the Service had %d ready endpoints at one point, want never fewer than 3", kubectl, least)
		}
		if _, err := c.Core.AppsV1().Deployments(c.Namespace).Get(ctxFor(t, 5*time.Second), app, metav1.GetOptions{}); !isNotFound(err) {
			t.Errorf("kubectl %v: the single Deployment %s is still there: %v", kubectl, app, err)
		}
		st, _ := c.ReadState(ctxFor(t, 5*time.Second), app)
		if st.Active != v3.Release || st.Previous != v2.Release || st.LastGoodJSON != nil || st.PreviousJSON != nil {
			t.Errorf("kubectl %v: state after the migration: active %q previous %q, %d/%d bytes of saved Deployments; want %q, %q and none",
				kubectl, st.Active, st.Previous, len(st.LastGoodJSON), len(st.PreviousJSON), v3.Release, v2.Release)
		}
		// v2, adopted as a release, is the previous one: rollback rolls it out again.
		if err := c.Rollback(ctxFor(t, time.Minute), v3, opts); err != nil {
			t.Fatal(err)
		}
		waitEndpoints(t, c, app, v2.Release, 3)
	}
}
