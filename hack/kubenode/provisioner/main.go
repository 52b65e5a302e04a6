// Command provisioner is the test node's storage provisioner: run beside the kubelet with the
// cluster's kubeconfig, it provisions each claim of its StorageClass as a folder under one
// directory of the node, given to the claim as a hostPath PersistentVolume pinned to the node
// (what rancher's local-path-provisioner does, without the helper pods whose image cannot be
// pulled here). The controller is sig-storage-lib-external-provisioner's, the one the CSI
// external-provisioner is built on: claims bind, wait for their first consumer and are deleted
// as on a real cluster.
//
//	provisioner -kubeconfig FILE -name PROVISIONER -dir DIR -node NODE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v11/controller"
)

type hostPath struct {
	dir, node string
}

func (p *hostPath) Provision(_ context.Context, o controller.ProvisionOptions) (*corev1.PersistentVolume, controller.ProvisioningState, error) {
	if o.SelectedNode != nil && o.SelectedNode.Name != p.node {
		return nil, controller.ProvisioningFinished, &controller.IgnoredError{Reason: "the claim's pod is on node " + o.SelectedNode.Name + ", not " + p.node}
	}
	path := filepath.Join(p.dir, o.PVName)
	// World-writable as local-path-provisioner makes it: the pod's user is not known here.
	if err := os.MkdirAll(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("making the folder of %s: %w", o.PVName, err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("making the folder of %s writable: %w", o.PVName, err)
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if o.StorageClass.ReclaimPolicy != nil {
		reclaim = *o.StorageClass.ReclaimPolicy
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: o.PVName},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   o.PVC.Spec.AccessModes,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: o.PVC.Spec.Resources.Requests[corev1.ResourceStorage]},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node}}},
			}}}},
		},
	}, controller.ProvisioningFinished, nil
}

func (p *hostPath) Delete(_ context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return errors.New("not a hostPath volume")
	}
	path := filepath.Clean(pv.Spec.HostPath.Path)
	if filepath.Dir(path) != filepath.Clean(p.dir) || !strings.HasPrefix(filepath.Base(path), "pvc-") {
		return &controller.IgnoredError{Reason: path + " is not a folder this provisioner made"}
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("deleting the folder of %s: %w", pv.Name, err)
	}
	return nil
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the cluster's kubeconfig")
	name := flag.String("name", "", "the provisioner's name (the StorageClass's provisioner)")
	dir := flag.String("dir", "", "the folder the volumes are made in")
	node := flag.String("node", "", "the node the folder is on")
	flag.Parse()
	if *kubeconfig == "" || *name == "" || *dir == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "usage: provisioner -kubeconfig FILE -name PROVISIONER -dir DIR -node NODE")
		os.Exit(2)
	}
	if err := run(*kubeconfig, *name, *dir, *node); err != nil {
		fmt.Fprintf(os.Stderr, "provisioner: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, name, dir, node string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	controller.NewProvisionController(ctx, client, name, &hostPath{dir: dir, node: node},
		controller.LeaderElection(false), controller.Threadiness(2)).Run(ctx)
	return nil
}
