package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
)

// SourceProvenance reads the provenance of app's env folder in the repository.
func SourceProvenance(ctx context.Context, t Target, root, app, env string) (*Provenance, error) {
	dir, err := EnvPath(root, app, env)
	if err != nil {
		return nil, err
	}
	b, err := ReadFile(ctx, t, path.Join(dir, "provenance.json"))
	if err != nil {
		return nil, fmt.Errorf("%s has never been pushed to %s (no %s/provenance.json): %w", app, env, dir, err)
	}
	var p Provenance
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading %s/provenance.json: %w", dir, err)
	}
	return &p, nil
}

// CheckPromotable refuses to promote from an env whose last deploy failed: its rollout state
// records a failed release, or no release of the app runs the env's image with every pod ready.
func CheckPromotable(src *Provenance, st *kube.AppStatus) error {
	if st.State.Phase == kube.PhaseFailed || st.State.Phase == kube.PhaseRolledBack {
		return fmt.Errorf("the last deploy of %s to %s failed (release %s, %s): fix %s before promoting from it", src.App, src.Env, st.State.Failed, st.State.Phase, src.Env)
	}
	var seen []string
	for _, r := range st.Releases {
		if r.Image != src.Image {
			seen = append(seen, r.Image)
			continue
		}
		if !r.Health.Healthy() {
			return fmt.Errorf("%s in %s runs %s but is not healthy (%d/%d ready, %d restarts): promote a release that works", src.App, src.Env, src.Image, r.Health.Ready, r.Health.Total, r.Health.Restarts)
		}
		return nil
	}
	if len(seen) == 0 {
		return fmt.Errorf("%s is not running in %s: nothing proves %s works there", src.App, src.Env, src.Image)
	}
	return fmt.Errorf("%s in %s does not run %s (what Git holds) but %s: its deploy has not happened or failed", src.App, src.Env, src.Image, strings.Join(seen, ", "))
}

// Promote publishes several apps' folders for one env in one commit. Each input is rendered by
// the caller for the target env with the source env's image; the message names the source.
func Promote(ctx context.Context, t Target, root, from string, ins []Input) (*Result, error) {
	var changes []Change
	var names []string
	for _, in := range ins {
		dir, err := EnvPath(root, in.Provenance.App, in.Provenance.Env)
		if err != nil {
			return nil, err
		}
		files, err := Hydrate(in)
		if err != nil {
			return nil, err
		}
		changes = append(changes, Change{Path: dir, Files: files, Keep: in.keepEncrypted()})
		names = append(names, fmt.Sprintf("%s %s (%s)", in.Provenance.App, in.Provenance.Version, in.Provenance.ImageDigest))
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("promoting: no app")
	}
	if t.Message == "" {
		t.Message = fmt.Sprintf("promote %s from %s to %s\n\n", strings.Join(names, ", "), from, ins[0].Provenance.Env)
		for _, in := range ins {
			t.Message += CommitMessage(in.Provenance) + "\n"
		}
	}
	if t.Branch == AutoBranch {
		t.Branch = fmt.Sprintf("pyship/promote-%s-to-%s-%s", from, ins[0].Provenance.Env, changesHash(changes))
	}
	return Publish(ctx, t, changes)
}

// CommitError refuses a promotion whose project is not at the commit the source env's image
// was built from.
type CommitError struct{ Dir, Commit, From, Built, To string }

func (e *CommitError) Error() string {
	return fmt.Sprintf("%s is at commit %q but %s runs the build of %s: check that commit out, so %s gets the same code and config", e.Dir, e.Commit, e.From, e.Built, e.To)
}

// Promotion is one app's promotion from the env From to the env To.
type Promotion struct {
	Target   Target
	Root     string
	From, To string
	// Plan is the app resolved for To, from its project at the commit From was built from.
	Plan *plan.Plan
	// Status reads the app's status where From runs; nil promotes without checking it.
	Status func(ctx context.Context, app string) (*kube.AppStatus, error)
	// Render renders the plan for To with the image From runs.
	Render func(p *plan.Plan, image string) (*kube.Bundle, error)
	// Command is the command line that reproduces the promotion, for the provenance.
	Command       string
	AgeRecipients []string
}

// Input decides whether the app can be promoted and returns what Promote publishes for it:
// From's provenance in Git gives the image; the project must be at the commit that image was
// built from (so the config is the same too), and From must run it healthily (CheckPromotable).
func (pr Promotion) Input(ctx context.Context) (*Input, error) {
	p := pr.Plan
	src, err := SourceProvenance(ctx, pr.Target, pr.Root, p.Name, pr.From)
	if err != nil {
		return nil, err
	}
	commit, _, err := SourceCommit(p.Dir)
	if err != nil {
		return nil, err
	}
	if src.SourceCommit != "" && commit != src.SourceCommit {
		return nil, &CommitError{Dir: p.Dir, Commit: commit, From: pr.From, Built: src.SourceCommit, To: pr.To}
	}
	if pr.Status != nil {
		st, err := pr.Status(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		if err := CheckPromotable(src, st); err != nil {
			return nil, err
		}
	}
	b, err := pr.Render(p, src.Image)
	if err != nil {
		return nil, err
	}
	prov := *src
	prov.Env, prov.Version, prov.Command = pr.To, p.Version, pr.Command
	if prov.PlanHash, err = PlanHash(p); err != nil {
		return nil, err
	}
	in := &Input{Bundle: b, Provenance: prov, AgeRecipients: pr.AgeRecipients, Now: time.Now()}
	if in.AgeIdentities, err = AgeIdentities(pr.Target.Creds); err != nil {
		return nil, err
	}
	return in, nil
}
