package kubetarget

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/rollout"
)

// The cluster's state becomes the platform's shape, as the local target's does: the canary in
// progress with its weight, roles and health, and none of the saved Deployments or engine state.
func TestAppStatusIsTheDeliberateShape(t *testing.T) {
	st := &kube.AppStatus{
		State: kube.State{Active: "r1", Previous: "r0", Candidate: "r2", Phase: kube.PhaseCanary, CanaryWeight: "25",
			RetireAfter: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), RolloutJSON: []byte(`{"canaryBase":{}}`)},
		Releases: []kube.ReleaseStatus{
			{Release: "r1", Image: "reg/app@sha256:1", Replicas: 3, Role: "active", Health: kube.ReleaseHealth{Ready: 3, Total: 3, Restarts: 1}},
			{Release: "r2", Image: "reg/app@sha256:2", Replicas: 1, Role: "candidate", Health: kube.ReleaseHealth{Ready: 0, Total: 1}},
		}}
	got := appStatus("shop", "prod", st)
	if got.Target != platform.Kubernetes || got.Namespace != "prod" || got.Active != "r1" || got.Previous != "r0" ||
		got.Rollout == nil || got.Rollout.Release != "r2" || got.Rollout.Weight != 25 || got.Rollout.Strategy != rollout.Canary {
		t.Fatalf("status %+v, rollout %+v", got, got.Rollout)
	}
	if r := got.Releases[0]; r.ID != "r1" || r.Ready != 3 || r.Replicas != 3 || r.Restarts != 1 || r.Role != "active" {
		t.Errorf("active release %+v", r)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if js := string(b); strings.Contains(js, "canaryBase") || !strings.Contains(js, `"retirePreviousAfter":"2026-12-02T03:00:00Z"`) {
		t.Errorf("status JSON: %s", js)
	}
}

func TestURL(t *testing.T) {
	p := &kube.Bundle{App: "shop", Namespace: "prod"}
	for _, c := range []struct {
		o    kube.Options
		want string
	}{
		{kube.Options{Host: "shop.example", TLSSecret: "tls"}, "https://shop.example"},
		{kube.Options{Host: "shop.example", ClusterIssuer: "le"}, "https://shop.example"},
		{kube.Options{Host: "shop.example"}, "http://shop.example"},
		{kube.Options{}, ""}, // a worker: no Service
	} {
		if got := URL(p, c.o); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	if !isLoopback("127.0.0.1:5050") || !isLoopback("localhost:5050") || isLoopback("registry.example:443") {
		t.Error("isLoopback")
	}
}
