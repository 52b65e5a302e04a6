package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
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
		return fmt.Errorf("notify webhook %s is not a valid URL ([notify] webhook)", redact(url))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the whole URL
		}
		return fmt.Errorf("notifying the webhook %s failed: %v; check [notify] webhook", redact(url), err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the webhook %s answered %s; check [notify] webhook", redact(url), resp.Status)
	}
	return nil
}

// redact is url without its path and query, which for Slack-style webhooks are the secret.
func redact(url string) string {
	u, err := neturl.Parse(url)
	if err != nil || u.Host == "" {
		return "(the [notify] webhook URL)"
	}
	if u.Path == "" || u.Path == "/" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}
