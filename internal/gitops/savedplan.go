package gitops

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"golang.org/x/mod/semver"
)

// PlanFormat is the version of the saved-plan file this pyship writes and reads. Format 2
// fingerprints the live state by content (LiveObject), format 1 did by resourceVersion.
const PlanFormat = 2

// SavedPlan is a change saved by `pyship plan --out` and applied, exactly, by `pyship apply`:
// the resolved spec, the image, the rendered objects, the diff shown, and a fingerprint of the
// live state the diff was made against. Hash seals the rest.
type SavedPlan struct {
	Format    int    `json:"pyshipPlanFormat"`
	Pyship    string `json:"pyship"`
	App       string `json:"app"`
	Env       string `json:"env,omitempty"`
	Target    string `json:"target"`
	Context   string `json:"context,omitempty"`
	Namespace string `json:"namespace"`
	Image     string `json:"image"`
	// Plan is the resolved spec; Bundle the objects rendered from it, applied as they are.
	Plan   *plan.Plan        `json:"plan"`
	Bundle *kube.Bundle      `json:"bundle"`
	Diff   []kube.ObjectDiff `json:"diff"`
	// Live maps each object the change touches or may prune ("Kind/name", and the app's
	// inventory Secret) to what the plan saw of it (Fingerprint).
	Live map[string]LiveObject `json:"live"`

	// On the local target: Home is pyship's state folder, Release the release built by the
	// plan (deployed as it is), Stable the release serving then, and Serial the agent's state
	// serial for the app then (-1: no agent was running; 0: the app was never deployed).
	Home    string `json:"home,omitempty"`
	Release string `json:"release,omitempty"`
	Stable  string `json:"stable,omitempty"`
	Serial  int64  `json:"serial,omitempty"`

	Hash string `json:"hash"`
}

// Changed reports whether applying the plan would change anything: an object on
// Kubernetes, the serving release on the local target.
func (p *SavedPlan) Changed() bool {
	if p.Target == "local" {
		return p.Release != p.Stable
	}
	return len(p.Diff) > 0
}

func (p *SavedPlan) digest() (string, error) {
	q := *p
	q.Hash = ""
	return jsonDigest(q)
}

// WritePlan seals the plan (sets its Hash) and writes it to file atomically, readable by its
// owner only (it holds the app's Secret values, like a Terraform plan).
func WritePlan(file string, p *SavedPlan) error {
	p.Format = PlanFormat
	h, err := p.digest()
	if err != nil {
		return err
	}
	p.Hash = h
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the plan %s: %w", file, err)
	}
	return nil
}

// ReadPlan reads a saved plan and refuses one edited since it was written (its hash), one in an
// older or newer format or written by a newer pyship than pyshipVersion, and one of another app than
// app (when app is not "").
func ReadPlan(file, pyshipVersion, app string) (*SavedPlan, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	// The format first: an older one is told apart from a file that is no plan.
	var head struct {
		Format int    `json:"pyshipPlanFormat"`
		Pyship string `json:"pyship"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.Format == 0 {
		return nil, fmt.Errorf("the plan %s is not a saved plan (`pyship plan --out FILE` writes one)", file)
	}
	if head.Format < PlanFormat {
		return nil, fmt.Errorf("the plan %s was written by pyship %s (plan format %d), older than this pyship's format %d: make a new plan with `pyship plan --out`", file, head.Pyship, head.Format, PlanFormat)
	}
	if head.Format > PlanFormat || newer(head.Pyship, pyshipVersion) {
		return nil, fmt.Errorf("the plan %s was written by pyship %s (plan format %d), newer than this pyship %s (format %d): apply it with that pyship or newer", file, head.Pyship, head.Format, pyshipVersion, PlanFormat)
	}
	var p SavedPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("the plan %s is not a saved plan (`pyship plan --out FILE` writes one): %w", file, err)
	}
	h, err := p.digest()
	if err != nil {
		return nil, err
	}
	if h != p.Hash {
		return nil, fmt.Errorf("the plan %s was changed after pyship wrote it (its hash is %s, its content's %s): make a new plan with `pyship plan --out`, never edit one", file, p.Hash, h)
	}
	switch {
	case p.Plan == nil:
		return nil, fmt.Errorf("the plan %s holds no resolved spec", file)
	case p.Target == "kubernetes" && p.Bundle == nil:
		return nil, fmt.Errorf("the plan %s has no Kubernetes objects to apply", file)
	case p.Target == "local" && (p.Release == "" || p.Home == ""):
		return nil, fmt.Errorf("the plan %s names no release to deploy", file)
	case p.Target != "kubernetes" && p.Target != "local":
		return nil, fmt.Errorf("the plan %s is for the target %q, which this pyship does not know", file, p.Target)
	}
	if app != "" && p.App != app {
		return nil, fmt.Errorf("the plan %s is for the app %q, not %q: apply it from that app's folder, or make a plan for %q", file, p.App, app, app)
	}
	return &p, nil
}

// newer reports whether the version a is a newer release than b (both semver; a "dev" or
// otherwise unversioned build compares as neither).
func newer(a, b string) bool {
	va, vb := "v"+strings.TrimPrefix(a, "v"), "v"+strings.TrimPrefix(b, "v")
	return semver.IsValid(va) && semver.IsValid(vb) && semver.Compare(va, vb) > 0
}

// CheckSerial compares the local agent's state serial for the app now with the plan's.
func (p *SavedPlan) CheckSerial(file string, now int64) error {
	if now == p.Serial || (now <= 0 && p.Serial <= 0) { // no agent, or an agent without the app
		return nil
	}
	describe := func(n int64) string {
		switch n {
		case -1:
			return "no agent running"
		case 0:
			return "not deployed"
		}
		return fmt.Sprintf("state serial %d", n)
	}
	return &StaleError{File: file, Changes: []string{fmt.Sprintf("%s on this machine went from %s to %s", p.App, describe(p.Serial), describe(now))}}
}
