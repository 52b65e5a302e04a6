// Package notify tells people what happened: Slack-compatible webhook messages about deploys and backups.
package notify
