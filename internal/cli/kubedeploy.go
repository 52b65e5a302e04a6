package cli

import (
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/spf13/pflag"
)

// kubeDeployFlags are deploy's flags for the Kubernetes target: the cluster, the image (built
// and pushed unless --image) and the rendering options that override [kubernetes].
type kubeDeployFlags struct {
	target         string
	cluster        clusterFlags
	render         kube.Options
	registry, base string
	timeout        time.Duration
	force          bool
}

func (f *kubeDeployFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "where to deploy: local or kubernetes (default [deploy] target, else local)")
	f.cluster.add(fs)
	fs.StringVar(&f.render.Image, "image", "", "kubernetes: deploy this image, REPO@sha256:..., instead of building and pushing one")
	fs.StringVar(&f.registry, "registry", "", "kubernetes: registry to push the image to (default [build] registry, else pyship's own at 127.0.0.1:5050)")
	fs.StringVar(&f.base, "base", "", "kubernetes: base image (default [build] base)")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "kubernetes: how long the rollout may take; a release not live by then is diagnosed and rolled back")
	addRenderOptions(fs, &f.render)
	addForceConflicts(fs, &f.force)
}

// addForceConflicts adds --force-conflicts, which the conflict error names.
func addForceConflicts(fs *pflag.FlagSet, force *bool) {
	fs.BoolVar(force, "force-conflicts", false, "kubernetes: take over fields of pyship's objects that another field manager (kubectl, a controller) owns, as kubectl apply --server-side --force-conflicts")
}
