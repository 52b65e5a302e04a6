// Package proxy is pyship's reverse proxy: weighted, atomically switched routing between releases, graceful drain and Prometheus metrics.
package proxy
