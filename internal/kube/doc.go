// Package kube renders a resolved plan into Kubernetes objects and applies, rolls out, inspects
// and removes them on a cluster with client-go (server-side apply, watches, no kubectl).
package kube
