# kustomize: the real kustomize binary, built from the Go module proxy at a pinned version
# (v5.8 needs a newer Go than this machine's) and cached under $PYSHIP_CACHE keyed on it.
# Exports PYSHIP_TEST_KUSTOMIZE (the binary). Nothing runs: there is nothing to stop.
KUSTOMIZE_VERSION=v5.7.1
svc_start() {
	echo "export PYSHIP_TEST_KUSTOMIZE=$(go_install_cached kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")"
}
svc_stop() { :; }
svc_status() { [ -x "$PYSHIP_CACHE/kustomize-$KUSTOMIZE_VERSION/kustomize" ]; }
