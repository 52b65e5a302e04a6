package kubetarget

import (
	"context"
	"errors"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/version"
)

// Plan works out what Deploy would change, changing nothing in the cluster: the objects
// rendered as Deploy renders them, with the app image Options.Render.Image (by digest: a plan
// builds no image), diffed against the cluster, with the fingerprint of the live state they
// touch. With o.Save, pyship's agent image is pushed beside the app image when the objects
// run it, so that `pyship apply` of the saved plan needs nothing else (Apply).
func (k *Platform) Plan(ctx context.Context, p *plan.Plan, o platform.PlanOptions) (*gitops.SavedPlan, error) {
	flags := k.o.Render
	if flags.Image == "" {
		return nil, platform.Invalid(errors.New("--out and --detailed-exitcode diff the rendered objects against the cluster: pass --image REPO@sha256:... (`pyship build --push` prints it)"))
	}
	if err := byDigest(flags.Image); err != nil {
		return nil, err
	}
	if err := k.withAgentImage(ctx, p, &flags, o.Save); err != nil {
		return nil, err
	}
	b, err := Render(p, flags, k.c.Namespace)
	if err != nil {
		return nil, err
	}
	live, err := gitops.Fingerprint(ctx, k.c, b)
	if err != nil {
		return nil, err
	}
	diffs, err := k.c.Diff(ctx, b, false)
	if err != nil {
		return nil, err
	}
	return &gitops.SavedPlan{Pyship: version.String(), App: p.Name, Target: string(platform.Kubernetes), Namespace: k.c.Namespace,
		Image: flags.Image, Plan: p, Bundle: b, Diff: diffs, Live: live}, nil
}

// Apply deploys exactly what the saved plan sp (read from file) saved, with the workflow of
// Deploy (DeployBundle), unless the live state it was made against changed since: then it
// returns a gitops.StaleError naming what changed, and applies nothing.
func (k *Platform) Apply(ctx context.Context, sp *gitops.SavedPlan, file string, o platform.DeployOptions) (*platform.Result, error) {
	if sp.Namespace != k.c.Namespace {
		return nil, platform.Invalid(fmt.Errorf("the plan %s is for namespace %q, not %q", file, sp.Namespace, k.c.Namespace))
	}
	live, err := gitops.Fingerprint(ctx, k.c, sp.Bundle)
	if err != nil {
		return nil, err
	}
	if err := sp.CheckLive(file, live); err != nil {
		return nil, err
	}
	k.progress("applying the saved plan %s: %s release %s to namespace %s (%s)", file, sp.App, sp.Bundle.Release, k.c.Namespace, sp.Bundle.Strategy)
	return k.DeployBundle(ctx, sp.Plan, sp.Bundle, sp.Image, o)
}

// Drift lists the fields of the app's live objects that other field managers than pyship's
// and the cluster's own own (gitops.DetectDrift). With reconcile, when there are some, it
// applies the app again as pyship renders it (with the image its active release runs,
// unless Options.Render.Image), taking those fields back, and lists what is left: fields
// pyship does not set.
func (k *Platform) Drift(ctx context.Context, p *plan.Plan, reconcile bool) (*gitops.DriftReport, error) {
	r := &gitops.DriftReport{Where: "in namespace " + k.c.Namespace}
	var err error
	if r.Drifts, err = gitops.DetectDrift(ctx, k.c, p.Name); err != nil || !reconcile || len(r.Drifts) == 0 {
		return r, err
	}
	flags := k.o.Render
	if flags.Image == "" {
		if flags.Image, err = k.liveImage(ctx, p.Name); err != nil {
			return nil, err
		}
		if flags.Image == "" {
			return nil, platform.Invalid(fmt.Errorf("--reconcile: %s runs no Deployment to read its image from; pass --image", p.Name))
		}
	}
	if err := k.withAgentImage(ctx, p, &flags, false); err != nil {
		return nil, err
	}
	b, err := Render(p, flags, k.c.Namespace)
	if err != nil {
		return nil, err
	}
	if _, err := k.c.Apply(ctx, b, kube.ApplyOptions{Force: true, Progress: k.progress}); err != nil {
		return nil, fmt.Errorf("reconciling %s: %w", p.Name, err)
	}
	r.Drifts, err = gitops.DetectDrift(ctx, k.c, p.Name)
	return r, err
}
