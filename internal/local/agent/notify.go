package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
)

// notify posts a Slack-compatible message about a finished deploy to the app's webhook:
// success, rollback, a failed release rolled back (st), or a deploy the agent could not carry
// out (failure, whatever st says).
func (a *Agent) notify(m *release.Manifest, st rollout.Status, rollback bool, failure error) error {
	url := m.Plan.NotifyWebhook
	if url == "" {
		return nil
	}
	var text string
	phase := string(st.Phase)
	switch {
	case failure != nil:
		text = fmt.Sprintf(":x: deploy of %s %s (version %s) failed: %v", m.App, m.ID, m.Version, failure)
		phase = "failed"
	case st.Phase == rollout.Succeeded && rollback:
		text = fmt.Sprintf(":rewind: %s rolled back to %s (version %s)", m.App, m.ID, m.Version)
	case st.Phase == rollout.Succeeded:
		text = fmt.Sprintf(":white_check_mark: %s %s (version %s) deployed with %s", m.App, m.ID, m.Version, st.Spec.Strategy)
	default:
		text = fmt.Sprintf(":x: deploy of %s %s (version %s) failed and was rolled back to %s: %s", m.App, m.ID, m.Version, st.Spec.Stable, st.Message)
	}
	body, _ := json.Marshal(map[string]any{"text": text, "username": "pyship",
		"attachments": []map[string]any{{"fields": []map[string]any{
			{"title": "app", "value": m.App, "short": true}, {"title": "release", "value": m.ID, "short": true},
			{"title": "phase", "value": phase, "short": true}}}}})
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify webhook %q is not a valid URL ([notify] webhook): %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("notifying the webhook %s failed: %v; check [notify] webhook", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the webhook %s answered %s; check [notify] webhook", url, resp.Status)
	}
	return nil
}
