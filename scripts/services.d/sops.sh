# sops: the real sops binary, built from the Go module proxy at a pinned version and cached
# under $PYSHIP_CACHE keyed on it. Exports PYSHIP_TEST_SOPS (the binary). Nothing runs.
SOPS_VERSION=v3.13.3
svc_start() {
	echo "export PYSHIP_TEST_SOPS=$(go_install_cached sops github.com/getsops/sops/v3/cmd/sops "$SOPS_VERSION")"
}
svc_stop() { :; }
svc_status() { [ -x "$PYSHIP_CACHE/sops-$SOPS_VERSION/sops" ]; }
