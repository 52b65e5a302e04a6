// Package dashboard builds the Grafana dashboard of an app, as code: RED per release, traffic
// weights, ready replicas, SLO budget and deploy annotations over pyship's own series.
package dashboard
