package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/pyship/pyship/internal/kube"
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
