package monitor

import (
	"fmt"
	"maps"
	"slices"
)

// AlertmanagerConfig is the part of Alertmanager's configuration file pyship writes.
type AlertmanagerConfig struct {
	Route     Route      `json:"route" yaml:"route"`
	Receivers []Receiver `json:"receivers" yaml:"receivers"`
}

// Route sends every alert, grouped by app and objective, to Receiver.
type Route struct {
	Receiver       string   `json:"receiver" yaml:"receiver"`
	GroupBy        []string `json:"group_by,omitempty" yaml:"group_by,omitempty"`
	GroupWait      string   `json:"group_wait,omitempty" yaml:"group_wait,omitempty"`
	GroupInterval  string   `json:"group_interval,omitempty" yaml:"group_interval,omitempty"`
	RepeatInterval string   `json:"repeat_interval,omitempty" yaml:"repeat_interval,omitempty"`
	// Matchers and Routes: child routes, each taking the alerts its matchers select.
	Matchers []string `json:"matchers,omitempty" yaml:"matchers,omitempty"`
	Routes   []Route  `json:"routes,omitempty" yaml:"routes,omitempty"`
}

// Receiver is where alerts go; one with no configuration drops them.
type Receiver struct {
	Name         string        `json:"name" yaml:"name"`
	SlackConfigs []SlackConfig `json:"slack_configs,omitempty" yaml:"slack_configs,omitempty"`
}

// SlackConfig is Alertmanager's Slack notifier: it posts Slack's incoming-webhook JSON
// (username, attachments with title and text) to APIURL.
type SlackConfig struct {
	APIURL       string `json:"api_url" yaml:"api_url"`
	Username     string `json:"username,omitempty" yaml:"username,omitempty"`
	Title        string `json:"title,omitempty" yaml:"title,omitempty"`
	Text         string `json:"text,omitempty" yaml:"text,omitempty"`
	SendResolved bool   `json:"send_resolved" yaml:"send_resolved"`
}

// Receiver names.
const (
	ReceiverWebhook = "pyship-webhook"
	ReceiverNone    = "pyship-none"
)

// Alertmanager routes every alert to webhook, the spec's [notify] webhook, which pyship
// documents as Slack-compatible: Alertmanager's own Slack notifier speaks that format, where
// its webhook_config would post Alertmanager's JSON, which Slack, Mattermost and the like
// reject. With no webhook, alerts go to a receiver that drops them (they still show in
// Alertmanager and Prometheus).
func Alertmanager(webhook string) AlertmanagerConfig {
	c := AlertmanagerConfig{Route: Route{Receiver: ReceiverNone, GroupBy: []string{"alertname", "app", "slo"},
		GroupWait: "30s", GroupInterval: "5m", RepeatInterval: "4h"}}
	c.Receivers = []Receiver{{Name: ReceiverNone}}
	if webhook == "" {
		return c
	}
	c.Route.Receiver = ReceiverWebhook
	c.Receivers = []Receiver{webhookReceiver(ReceiverWebhook, webhook)}
	return c
}

// AlertmanagerApps routes the alerts of each app (by its app label) to that app's webhook,
// for an Alertmanager serving several apps (the local agent's); apps without one, and alerts
// of no app, go to a receiver that drops them.
func AlertmanagerApps(webhooks map[string]string) AlertmanagerConfig {
	c := Alertmanager("")
	for _, app := range slices.Sorted(maps.Keys(webhooks)) {
		if webhooks[app] == "" {
			continue
		}
		name := ReceiverWebhook + "-" + app
		c.Route.Routes = append(c.Route.Routes, Route{Receiver: name, Matchers: []string{fmt.Sprintf("app=%q", app)}})
		c.Receivers = append(c.Receivers, webhookReceiver(name, webhooks[app]))
	}
	return c
}

// webhookReceiver posts to a Slack-compatible webhook.
func webhookReceiver(name, webhook string) Receiver {
	return Receiver{Name: name, SlackConfigs: []SlackConfig{{
		APIURL:       webhook,
		Username:     "pyship",
		Title:        `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.app }}{{ with .CommonLabels.slo }} ({{ . }}){{ end }}`,
		Text:         `{{ range .Alerts }}{{ .Annotations.summary }}. {{ .Annotations.description }}` + "\n" + `{{ end }}`,
		SendResolved: true,
	}}}
}
