package agent

import (
	"fmt"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/notify"
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
	return notify.Webhook(a.ctx, url, text, [][2]string{{"app", m.App}, {"release", m.ID}, {"phase", phase}})
}
