package kube

import (
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout/conformance"
)

// The Kubernetes target (a Deployment per release, traffic through the Service selector for
// blue-green and through the replicas themselves for rolling) keeps rollout.Target's contract,
// as the local target does (internal/local/agent TestAppTargetConformance); kwok's nodes make
// the pods ready, and a release that asks for more memory than any node has never starts.
func TestReleaseTargetConformance(t *testing.T) {
	c := newCluster(t)
	for _, strategy := range []string{"blue-green", "rolling"} {
		t.Run(strategy, func(t *testing.T) {
			app := "cf-" + strings.ReplaceAll(strategy, "-", "")
			p := appPlan(app, strategy)
			v1 := c.render(t, p, Options{Image: image("a1")})
			if err := c.Deploy(ctxFor(t, time.Minute), v1, DeployOptions{Replicas: 1, Progress: logProgress(t)}); err != nil {
				t.Fatal(err)
			}
			ctx := ctxFor(t, 4*time.Minute)
			// Releases A, B and a failing one, applied as a deploy applies them, with no replica.
			var rels []*Bundle
			for _, o := range []Options{{Image: image("b2")}, {Image: image("c3")}, {Image: image("d4"), Memory: "100Ti", MemoryLimit: "100Ti"}} {
				b := c.render(t, p, o)
				if _, err := c.Apply(ctx, rolloutBundle(b, v1.Release), ApplyOptions{Progress: logProgress(t)}); err != nil {
					t.Fatal(err)
				}
				if err := c.ScaleRelease(ctx, app, b.Release, 0); err != nil {
					t.Fatal(err)
				}
				rels = append(rels, b)
			}
			if err := c.WaitRelease(ctx, app, rels[0].Release, 0, logProgress(t)); err != nil {
				t.Fatal(err)
			}
			target := &releaseTarget{c: c.Client, b: rels[0], startup: 10 * time.Second, started: time.Now(), now: time.Now}
			if err := conformance.Check(ctx, target, conformance.Releases{A: rels[0].Release, B: rels[1].Release, Failing: rels[2].Release, Timeout: time.Minute}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
