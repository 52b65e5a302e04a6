// Package kubetarget is the platform of apps on a Kubernetes cluster: images built and
// pushed, objects rendered and applied with server-side apply, releases rolled out by
// rollout.Engine through package kube.
package kubetarget
