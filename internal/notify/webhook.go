package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Webhook posts a Slack-compatible message (text, and short fields as an attachment) to url
// ([notify] webhook), waiting at most 5 s.
func Webhook(ctx context.Context, url, text string, fields [][2]string) error {
	var fs []map[string]any
	for _, f := range fields {
		fs = append(fs, map[string]any{"title": f[0], "value": f[1], "short": true})
	}
	body, _ := json.Marshal(map[string]any{"text": text, "username": "pyship",
		"attachments": []map[string]any{{"fields": fs}}})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
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
