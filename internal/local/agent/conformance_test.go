package agent

import (
	"context"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout/conformance"
)

// The local target (an app's replicas behind its proxy) keeps rollout.Target's contract, as
// the Kubernetes target does (internal/kube TestReleaseTargetConformance).
func TestAppTargetConformance(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c, a, shutdown := runAgent(t, home)
	defer shutdown()
	pub := port(t)
	deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub)))
	rA := build(t, home, stdlibPlan(stdlibApp(t, ""), "v2", "rolling", pub))
	rB := build(t, home, stdlibPlan(stdlibApp(t, ""), "v3", "rolling", pub))
	bad := build(t, home, stdlibPlan(stdlibApp(t, "crash"), "v4", "rolling", pub))
	rt := a.app("stdapp")
	if rt == nil {
		t.Fatal("the agent has no runtime for stdapp after its deploy")
	}
	// The check drives the target as a deploy does, holding the app's rollout lock: the
	// agent's housekeeping would retire the replicas of releases no deploy asked for.
	rt.deploying.Lock()
	defer rt.deploying.Unlock()
	defer func() {
		reps, _ := rt.Replicas(context.Background())
		var ids []string
		for _, r := range reps {
			ids = append(ids, r.ID)
		}
		_ = rt.Stop(context.Background(), ids)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := conformance.Check(ctx, rt, conformance.Releases{A: rA.ID, B: rB.ID, Failing: bad.ID, Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
}
