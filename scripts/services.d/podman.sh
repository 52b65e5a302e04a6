# podman: Debian's podman set up to run containers on this machine (see ../shared/MACHINE-NOTES.md):
# a containers.conf with ulimits and cgroupfs, a registries.conf trusting the plain-HTTP test
# registry, and storage under $PYSHIP_CACHE. Not a server.
# Exports CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF and PYSHIP_TEST_PODMAN (the podman command
# prefix with --root/--runroot; split on spaces).
svc_start() {
	apt_install podman buildah runc uidmap
	local conf="$SVC_DIR/containers.conf" regs="$SVC_DIR/registries.conf"
	cat >"$conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
	cat >"$regs" <<CONF
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:5000"
insecure = true
[[registry]]
location = "127.0.0.1:5050"
insecure = true
CONF
	local root="$PYSHIP_CACHE/podman/storage" runroot="$SVC_DIR/runroot"
	mkdir -p "$root" "$runroot"
	echo "export CONTAINERS_CONF=$conf"
	echo "export CONTAINERS_REGISTRIES_CONF=$regs"
	echo "export PYSHIP_TEST_PODMAN='podman --root $root --runroot $runroot --storage-driver overlay'"
}
svc_stop() { :; }
svc_status() { command -v podman >/dev/null; }
