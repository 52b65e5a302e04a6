//go:build tools

// Package kube pins the Kubernetes binaries that scripts/services.d/kube.sh (control plane) and
// kube-node.sh (kubelet and kube-proxy of the real test node) build for tests.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
