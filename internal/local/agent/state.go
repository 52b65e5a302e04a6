package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
)

// ReplicaRecord is a replica the agent started; with the process marker it lets a restarted
// agent take the process back.
type ReplicaRecord struct {
	ID      string `json:"id"`
	Release string `json:"release"`
	Port    int    `json:"port"`
}

// AppState is everything the agent must remember about an app across restarts. It is written
// atomically after every change.
type AppState struct {
	App string `json:"app"`
	// Port is the public port the proxy serves on.
	Port int `json:"port"`
	// Stable is the last promoted release.
	Stable      string          `json:"stable,omitempty"`
	Weights     map[string]int  `json:"weights"`
	Replicas    []ReplicaRecord `json:"replicas"`
	Deploy      *rollout.Status `json:"deploy,omitempty"`
	NextReplica int             `json:"nextReplica"`
	// Stopped apps are not served until the next deploy.
	Stopped bool `json:"stopped,omitempty"`
	// Backup holds the outcome of the app's last backups.
	Backup *BackupStatus `json:"backup,omitempty"`
	// Deploys records how each release was deployed (strategy, start), for the
	// pyship_release_info and pyship_release_started_timestamp_seconds series.
	Deploys map[string]ReleaseDeploy `json:"deploys,omitempty"`
	// History is the app's last deploys and rollbacks with their verdicts, newest last (at
	// most historyDeploys).
	History []DeployRecord `json:"history,omitempty"`
	// Serial counts the changes of this state (every save); a saved plan (`pyship plan
	// --out`) records it and `pyship apply` refuses to apply when it moved.
	Serial int64 `json:"serial"`
}

// ReleaseDeploy is how a release's last deploy was made.
type ReleaseDeploy struct {
	Strategy string    `json:"strategy"`
	Started  time.Time `json:"started"`
}

func stateFile(paths release.Paths, app string) string {
	return filepath.Join(paths.App(app), "state.json")
}

func loadState(paths release.Paths, app string) (*AppState, error) {
	b, err := os.ReadFile(stateFile(paths, app))
	if errors.Is(err, os.ErrNotExist) {
		return &AppState{App: app, Weights: map[string]int{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the state of %s: %w", app, err)
	}
	var st AppState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("reading the state of %s (%s): %w", app, stateFile(paths, app), err)
	}
	if st.Weights == nil {
		st.Weights = map[string]int{}
	}
	return &st, nil
}

func saveState(paths release.Paths, st *AppState) error {
	if err := os.MkdirAll(paths.App(st.App), 0o755); err != nil {
		return err
	}
	st.Serial++
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return release.WriteAtomic(stateFile(paths, st.App), b)
}

// historyDeploys is how many deploys an app's state remembers.
const historyDeploys = 20

// DeployRecord is one deploy or rollback in an app's history.
type DeployRecord struct {
	Release  string           `json:"release"`
	Version  string           `json:"version"`
	Strategy rollout.Strategy `json:"strategy"`
	Rollback bool             `json:"rollback,omitempty"`
	Started  time.Time        `json:"started"`
	Ended    time.Time        `json:"ended,omitzero"`
	// Phase is the verdict ("succeeded", "rolled-back", "failed") or, while it runs, its phase.
	Phase   string `json:"phase"`
	Message string `json:"message,omitempty"`
	// Analysis is the last canary verdict's reason, when there was one.
	Analysis string `json:"analysis,omitempty"`
}

// recordDeploy starts a record of the deploy st in the app's history; rt.mu is held.
func (rt *app) recordDeploy(m *release.Manifest, st rollout.Status, rollback bool) {
	rt.st.History = append(rt.st.History, DeployRecord{Release: m.ID, Version: m.Version, Strategy: st.Spec.Strategy,
		Rollback: rollback, Started: rt.a.Clock.Now().UTC(), Phase: string(st.Phase)})
	if n := len(rt.st.History); n > historyDeploys {
		rt.st.History = slices.Clone(rt.st.History[n-historyDeploys:])
	}
}

// updateDeploy brings the open record of st's release up to date (failure, when set, ends it
// as failed); rt.mu is held.
func (rt *app) updateDeploy(st rollout.Status, failure error) {
	n := len(rt.st.History)
	if n == 0 {
		return
	}
	h := &rt.st.History[n-1]
	if h.Release != st.Spec.Release || !h.Ended.IsZero() {
		return
	}
	h.Phase, h.Message = string(st.Phase), st.Message
	if st.Analysis != nil && !strings.Contains(st.Message, st.Analysis.Reason) {
		h.Analysis = st.Analysis.Reason
	}
	if failure != nil {
		h.Phase, h.Message = "failed", failure.Error()
	}
	if failure != nil || st.Terminal() {
		h.Ended = rt.a.Clock.Now().UTC()
	}
}
