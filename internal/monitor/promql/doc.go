// Package promql asks a Prometheus server instant queries and checks PromQL before it is run:
// a thin layer over the official HTTP API client that sorts failures into unreachable, bad
// query and empty result, and validates canary checks with Prometheus' own parser.
package promql
