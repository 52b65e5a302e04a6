// Package gitops writes an app's hydrated Kubernetes objects into a Git repository, one
// kustomize-buildable folder per environment with its provenance, and commits and pushes them
// with go-git.
package gitops
