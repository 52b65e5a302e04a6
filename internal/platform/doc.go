// Package platform is what a verb can do to a deployed app, wherever it runs: the Platform
// interface that the local target (package localtarget) and Kubernetes (package kubetarget)
// implement, its options and results, and the workflows both share.
package platform
