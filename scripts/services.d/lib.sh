# Helpers shared by the service definitions in this folder (sourced, not run).

# apt_install PKG...: install Debian packages that are missing (apt-get update once per day).
# Services start concurrently (go test runs packages in parallel), so installs are serialised by
# one machine-wide lock, the missing list is read again under it, and apt itself waits for a dpkg
# lock held by anyone else. The lock's descriptor is closed for apt-get: a package's maintainer
# script may start a daemon, which must not inherit (and hold) the lock.
apt_missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}
apt_install() {
	[ -z "$(apt_missing "$@")" ] && return 0
	(
		flock -w 900 9 || { echo "services: waited 900 s for the apt lock /var/lock/pyship-apt.lock" >&2; exit 1; }
		local missing
		mapfile -t missing < <(apt_missing "$@")
		[ ${#missing[@]} -eq 0 ] && exit 0
		echo "services: installing ${missing[*]}" >&2
		local stamp=/var/lib/apt/periodic/pyship-update-stamp
		local apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
		if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 9>&-
			mkdir -p "$(dirname "$stamp")" && touch "$stamp"
		fi
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 9>&-
	) 9>/var/lock/pyship-apt.lock
}

# pid_alive PIDFILE: the process in PIDFILE is running.
pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# wait_http URL SECONDS: poll URL until it answers (any HTTP status) or the deadline passes.
wait_http() {
	local url=$1 deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		curl -ks -o /dev/null "$url" && return 0
		sleep 0.1
	done
	echo "services: $url did not answer within $2 s" >&2
	return 1
}

# stop_pidfile PIDFILE: TERM then KILL the process in PIDFILE.
stop_pidfile() {
	local f=$1
	pid_alive "$f" || { rm -f "$f"; return 0; }
	local pid
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$f"
}

# debian_base_layout DIR PACKAGES REF: a Debian bookworm image of the comma-separated PACKAGES
# made with mmdebstrap (reproducible: SOURCE_DATE_EPOCH is fixed), as the OCI layout DIR/layout
# naming it REF; built once, kept in DIR.
debian_base_layout() {
	local dir=$1 packages=$2 ref=$3 root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	[ -f "$dir/layout/index.json" ] && return 0
	apt_install mmdebstrap
	mkdir -p "$dir"
	if [ ! -f "$dir/rootfs.tar" ]; then
		echo "services: building a Debian image of $packages with mmdebstrap (about 30 s)" >&2
		SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=essential \
			--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
			--include="$packages" \
			--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
			--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
			bookworm "$dir/rootfs.tmp.tar" >&2
		mv "$dir/rootfs.tmp.tar" "$dir/rootfs.tar"
	fi
	rm -rf "$dir/layout.tmp"
	(cd "$root" && go run ./hack/rootfs2oci "$dir/rootfs.tar" "$dir/layout.tmp" "$ref") >&2
	mv "$dir/layout.tmp" "$dir/layout"
}

# go_install_cached NAME PACKAGE VERSION: the binary NAME of `go install PACKAGE@VERSION`, built
# once from the Go module proxy into $PYSHIP_CACHE/NAME-VERSION/NAME (atomically); prints its path.
go_install_cached() {
	local name=$1 pkg=$2 version=$3
	local bin="$PYSHIP_CACHE/$name-$version/$name"
	if [ ! -x "$bin" ]; then
		echo "services: building $name $version from the Go module proxy" >&2
		local tmp="$PYSHIP_CACHE/$name-$version.tmp.$$"
		mkdir -p "$tmp"
		(cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$pkg@$version") >&2
		mkdir -p "$(dirname "$bin")"
		mv "$tmp/$name" "$bin.tmp.$$" && mv "$bin.tmp.$$" "$bin"
		rm -rf "$tmp"
	fi
	echo "$bin"
}
