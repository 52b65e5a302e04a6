# pybase: a Debian bookworm Python base image made with mmdebstrap (reproducible, cached under
# $PYSHIP_CACHE keyed on its options), as an OCI layout. Not a server.
# Exports PYSHIP_TEST_BASE=oci-layout:DIR:REF and PYSHIP_TEST_BASE_TAR (the rootfs tarball).
# tzdata, as in Debian's slim images: the wheelhouse's pytz (Debian's python3-tz repackaged)
# reads /usr/share/zoneinfo, and Django imports it.
pybase_opts() {
	echo "bookworm essential merged-usr python3,python3-pip,ca-certificates,tzdata epoch=1700000000 v1"
}
pybase_dir() {
	echo "$PYSHIP_CACHE/pybase/$(pybase_opts | sha256sum | cut -c1-16)"
}
svc_start() {
	local dir
	dir=$(pybase_dir)
	debian_base_layout "$dir" python3,python3-pip,ca-certificates,tzdata pybase
	echo "export PYSHIP_TEST_BASE=oci-layout:$dir/layout:pybase"
	echo "export PYSHIP_TEST_BASE_LAYOUT=$dir/layout"
}
svc_stop() { :; }
svc_status() { [ -f "$(pybase_dir)/layout/index.json" ]; }
