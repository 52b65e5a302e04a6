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
	local dir root
	dir=$(pybase_dir)
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [ ! -f "$dir/layout/index.json" ]; then
		apt_install mmdebstrap
		mkdir -p "$dir"
		if [ ! -f "$dir/rootfs.tar" ]; then
			echo "pybase: building the base rootfs with mmdebstrap (about 30 s)" >&2
			SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=essential \
				--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
				--include=python3,python3-pip,ca-certificates,tzdata \
				--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
				--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
				bookworm "$dir/rootfs.tmp.tar" >&2
			mv "$dir/rootfs.tmp.tar" "$dir/rootfs.tar"
		fi
		rm -rf "$dir/layout.tmp"
		(cd "$root" && go run ./hack/rootfs2oci "$dir/rootfs.tar" "$dir/layout.tmp" pybase) >&2
		mv "$dir/layout.tmp" "$dir/layout"
	fi
	echo "export PYSHIP_TEST_BASE=oci-layout:$dir/layout:pybase"
	echo "export PYSHIP_TEST_BASE_LAYOUT=$dir/layout"
}
svc_stop() { :; }
svc_status() { [ -f "$(pybase_dir)/layout/index.json" ]; }
