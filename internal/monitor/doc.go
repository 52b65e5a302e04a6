// Package monitor generates an app's monitoring artefacts from its plan: Prometheus recording
// rules and multi-window, multi-burn-rate alerts for its [monitor] objectives, an Alertmanager
// configuration routing them to [notify] webhook, and a Prometheus scrape configuration.
package monitor
