# gitopscrds: the CustomResourceDefinitions of Flux (source-controller's GitRepository,
# kustomize-controller's Kustomization) and Argo CD (Application), as the controllers publish
# them in their own Go modules (config/crd/bases, manifests/crds), fetched from the Go module
# proxy at pinned versions into the module cache. Not a server.
# Exports PYSHIP_TEST_FLUX_SOURCE_CRDS, PYSHIP_TEST_FLUX_KUSTOMIZE_CRDS and PYSHIP_TEST_ARGOCD_CRDS
# (folders of CRD YAML files).
FLUX_SOURCE_VERSION=v1.7.3
FLUX_KUSTOMIZE_VERSION=v1.7.3
ARGOCD_VERSION=v3.1.9

crd_module_dir() { # MODULE@VERSION: its folder in the module cache, downloaded when missing
	local tmp dir
	tmp=$(mktemp -d)
	dir=$(cd "$tmp" && GOPROXY=${GOPROXY:-$(go env GOPROXY)} GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	rm -rf "$tmp"
	[ -n "$dir" ] && [ -d "$dir" ] || { echo "services: could not download $1 from the Go module proxy" >&2; return 1; }
	echo "$dir"
}
svc_start() {
	local src kus argo
	src=$(crd_module_dir "github.com/fluxcd/source-controller@$FLUX_SOURCE_VERSION")
	kus=$(crd_module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_VERSION")
	argo=$(crd_module_dir "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION")
	echo "export PYSHIP_TEST_FLUX_SOURCE_CRDS=$src/config/crd/bases"
	echo "export PYSHIP_TEST_FLUX_KUSTOMIZE_CRDS=$kus/config/crd/bases"
	echo "export PYSHIP_TEST_ARGOCD_CRDS=$argo/manifests/crds"
}
svc_stop() { :; }
svc_status() { # the three modules are in the module cache
	GOPROXY=off crd_module_dir "github.com/fluxcd/source-controller@$FLUX_SOURCE_VERSION" >/dev/null 2>&1 &&
		GOPROXY=off crd_module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_VERSION" >/dev/null 2>&1 &&
		GOPROXY=off crd_module_dir "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" >/dev/null 2>&1
}
