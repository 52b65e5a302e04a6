package kube

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Rollout state annotations on the app's inventory Secret: a deploy killed half-way reads them
// back and converges.
const (
	annActive     = "pyship.dev/active-release"
	annPrevious   = "pyship.dev/previous-release"
	annCandidate  = "pyship.dev/candidate-release"
	annPhase      = "pyship.dev/phase"
	annWeight     = "pyship.dev/canary-weight"
	annSwitchedAt = "pyship.dev/switched-at"
	annRetire     = "pyship.dev/retire-previous-after"
	annFailed     = "pyship.dev/failed-release"
	annRequest    = "pyship.dev/request"
	stateManager  = "pyship-rollout"
	// requestManager owns the request annotation, so the deploy's own state writes (another
	// field manager) never drop a request it has not seen yet.
	requestManager = "pyship-request"
	// keyLastGood and keyPreviousGood held, for an earlier pyship's rolling strategy (one
	// Deployment APP), the Deployments of the active and the previous release: read once, to
	// move the app to release Deployments (adoptLegacy), then removed.
	keyLastGood     = "last-good-deployment"
	keyPreviousGood = "previous-deployment"
	// keyRollout holds the strategy engine's rollout.Status of the rollout in progress, so a
	// deploy run again after a crash resumes where it stood.
	keyRollout = "rollout-status"
)

// State is where the app's rollout stands.
type State struct {
	Active       string    `json:"active,omitempty"`
	Previous     string    `json:"previous,omitempty"`
	Candidate    string    `json:"candidate,omitempty"`
	Failed       string    `json:"failed,omitempty"`
	Phase        Phase     `json:"phase,omitempty"`
	CanaryWeight string    `json:"canaryWeight,omitempty"`
	SwitchedAt   time.Time `json:"switchedAt,omitzero"`
	// RetireAfter is when the rollback window of a blue-green or canary switch ends: the
	// previous release keeps its pods until the first deploy or promote after it.
	RetireAfter time.Time `json:"retirePreviousAfter,omitzero"`
	// Request is a user's request to the deploy in progress ("promote" or "abort"), not yet taken.
	Request string `json:"request,omitempty"`
	// LastGoodJSON and PreviousJSON are the Deployments of the Active and Previous release
	// that an earlier pyship's rolling strategy saved; nil once adoptLegacy has moved the app.
	LastGoodJSON []byte `json:"-"`
	PreviousJSON []byte `json:"-"`
	RolloutJSON  []byte `json:"-"`
}

// Phase is where the app's rollout stands on the cluster, as recorded in its state.
type Phase string

// The phases of State.
const (
	PhaseNone        Phase = ""            // never deployed
	PhaseProgressing Phase = "progressing" // a rolling or blue-green rollout runs
	PhaseCanary      Phase = "canary"      // a canary rollout runs
	PhaseSwitched    Phase = "switched"    // a blue-green switch is done; the previous release is warm
	PhaseDone        Phase = "done"        // the last rollout succeeded
	PhaseFailed      Phase = "failed"      // the last rollout failed with nothing to roll back to
	PhaseRolledBack  Phase = "rolled-back" // the last rollout failed or was aborted, or a rollback ran
)

// ReadState reads the rollout state of app (zero State when the app was never deployed).
func (c *Client) ReadState(ctx context.Context, app string) (*State, error) {
	s, err := c.Core.CoreV1().Secrets(c.Namespace).Get(ctx, ApplySetParentName(app), metav1.GetOptions{})
	if isNotFound(err) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the rollout state of %s (Secret %s/%s): %w", app, c.Namespace, ApplySetParentName(app), err)
	}
	return stateOf(s), nil
}

// stateOf reads the rollout state from the inventory Secret.
func stateOf(s *corev1.Secret) *State {
	a := s.Annotations
	st := &State{Active: a[annActive], Previous: a[annPrevious], Candidate: a[annCandidate], Failed: a[annFailed],
		Phase: Phase(a[annPhase]), CanaryWeight: a[annWeight], Request: a[annRequest],
		LastGoodJSON: s.Data[keyLastGood], PreviousJSON: s.Data[keyPreviousGood], RolloutJSON: s.Data[keyRollout]}
	if t, err := time.Parse(time.RFC3339, a[annSwitchedAt]); err == nil {
		st.SwitchedAt = t
	}
	if t, err := time.Parse(time.RFC3339, a[annRetire]); err == nil {
		st.RetireAfter = t
	}
	return st
}

// writeState records st on the inventory Secret with its own server-side apply (field manager
// pyship-rollout), creating the Secret when the app was never applied; keys left empty are removed.
func (c *Client) writeState(ctx context.Context, app string, st *State) error {
	ann := map[string]string{annActive: st.Active, annPrevious: st.Previous, annCandidate: st.Candidate,
		annFailed: st.Failed, annPhase: string(st.Phase), annWeight: st.CanaryWeight}
	if !st.SwitchedAt.IsZero() {
		ann[annSwitchedAt] = st.SwitchedAt.UTC().Format(time.RFC3339)
	}
	if !st.RetireAfter.IsZero() {
		ann[annRetire] = st.RetireAfter.UTC().Format(time.RFC3339)
	}
	for k, v := range ann {
		if v == "" {
			delete(ann, k)
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque"}}
	u.SetName(ApplySetParentName(app))
	u.SetNamespace(c.Namespace)
	u.SetAnnotations(ann)
	data := map[string]any{}
	if st.LastGoodJSON != nil {
		data[keyLastGood] = base64.StdEncoding.EncodeToString(st.LastGoodJSON)
	}
	if st.PreviousJSON != nil {
		data[keyPreviousGood] = base64.StdEncoding.EncodeToString(st.PreviousJSON)
	}
	if st.RolloutJSON != nil {
		data[keyRollout] = base64.StdEncoding.EncodeToString(st.RolloutJSON)
	}
	if len(data) > 0 {
		u.Object["data"] = data
	}
	_, err := c.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(c.Namespace).
		Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: stateManager, Force: true})
	if err != nil {
		return objectError("save the rollout state on", u, "secrets", c.Namespace, err)
	}
	return nil
}

// Requests a user can make to a deploy in progress.
const (
	RequestPromote = "promote"
	RequestAbort   = "abort"
)

// Request asks the deploy of app in progress to promote its canary now or to roll back; the
// deploy takes the request at its next step (within about a second).
func (c *Client) Request(ctx context.Context, app, request string) error {
	st, err := c.ReadState(ctx, app)
	if err != nil {
		return err
	}
	if st.Candidate == "" {
		return fmt.Errorf("%s: no rollout of %s is in progress in namespace %s", request, app, c.Namespace)
	}
	return c.applyRequest(ctx, app, request)
}

// applyRequest sets (or, with "", removes) the request annotation under its own field manager.
func (c *Client) applyRequest(ctx context.Context, app, request string) error {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque"}}
	u.SetName(ApplySetParentName(app))
	u.SetNamespace(c.Namespace)
	if request != "" {
		u.SetAnnotations(map[string]string{annRequest: request})
	}
	_, err := c.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(c.Namespace).
		Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: requestManager, Force: true})
	if err != nil {
		return objectError("record the request on", u, "secrets", c.Namespace, err)
	}
	return nil
}

// takeRequest returns the pending request of app ("" for none) and removes it.
func (c *Client) takeRequest(ctx context.Context, app string) (string, error) {
	st, err := c.ReadState(ctx, app)
	if err != nil || st.Request == "" {
		return "", err
	}
	return st.Request, c.applyRequest(ctx, app, "")
}
