package backup

import (
	"context"
	"fmt"
	"time"
)

// Scheduled is the job the agent runs at each scheduled time: a backup, then a prune when the
// config has a retention. Its error is what the agent sends to the notify webhook.
func (c *Client) Scheduled(ctx context.Context, at time.Time) error {
	m, err := c.Now(ctx, NowOptions{})
	if err != nil {
		return fmt.Errorf("scheduled backup of %s: %w", at.Format(time.RFC3339), err)
	}
	if c.cfg.Retention == (Retention{}) {
		return nil
	}
	if _, err := c.Prune(ctx, c.cfg.Retention, time.Local, false); err != nil {
		return fmt.Errorf("pruning after scheduled backup %s: %w", m.ID, err)
	}
	return nil
}
