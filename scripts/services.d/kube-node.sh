# kube-node: a REAL node joined to the test control plane (`scripts/services start kube`), for the
# real-pod tier: kubelet and kube-proxy (iptables mode) built from hack/kube's pinned module,
# containerd 1.6 + runc + the CNI plugins from Debian, a pause image built here (hack/kubenode/pause)
# and pulled, like every app image, from the plain-HTTP test registry on loopback, and a storage
# provisioner (hack/kubenode/provisioner) that makes each claim of the StorageClass
# pyship-node-hostpath a folder on this machine.
#
# The node is kept apart from the kwok fake node the other tests use: it is tainted
# pyship.test/real-node=true:NoSchedule (no other test's pod lands on it), and a namespace meant
# for it carries the annotations this service exports (the PodNodeSelector and
# PodTolerationRestriction admission plugins give every pod there the node selector and the
# toleration, so none lands on the fake node).
#
# Network: pods get 10.217.0.0/24 on the bridge pyshipbr0; Service IPs (10.0.0.0/24) route to that
# bridge; the PYSHIP-NODE-FWD and -OUT iptables chains drop anything a pod sends off the bridge and refuses
# Service traffic to endpoints outside the pod range (the kwok pods' made-up IPs). Nothing leaves
# the machine.
#
# When the machine cannot run pods (not root, no cgroups, no overlayfs, no iptables) start exits 0
# and exports only PYSHIP_KUBE_NODE_SKIP, a one-line reason; the real-pod tests skip with it.
# Otherwise it exports KUBECONFIG, PYSHIP_KUBE_REAL_NODE, PYSHIP_KUBE_REAL_NODE_ANNOTATIONS (JSON
# object: the namespace annotations), PYSHIP_KUBE_STORAGE_CLASS, PYSHIP_TEST_REGISTRY and
# PYSHIP_KUBE_NODE_HOST, the address where pods reach this machine's loopback services (S3 at
# http://$PYSHIP_KUBE_NODE_HOST:PORT): TCP to it from a pod is sent to 127.0.0.1.
# `stop` removes everything start made: processes, mounts, network namespaces, cgroups, iptables
# chains, the bridge and route, its /etc/hosts line, sysctls the kubelet changed, the Node object and the StorageClass.

# shellcheck source=kube.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube.sh"

KN_NODE=pyship-real-node
KN_BRIDGE=pyshipbr0
KN_POD_CIDR=10.217.0.0/24
KN_GATEWAY=10.217.0.1
KN_SERVICE_CIDR=10.0.0.0/24
KN_TAINT_KEY=pyship.test/real-node
KN_LABEL=pyship.test/node
KN_STORAGE_CLASS=pyship-node-hostpath
KN_PAUSE_REF=127.0.0.1:5000/pyship-node/pause:1
KN_KUBE_DIR=$PYSHIP_SVC_STATE/kube
KN_CGROUP=pyship-node
KN_SYSCTLS="vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward"

# kn_unsupported: prints why this machine cannot run the node, or nothing.
kn_unsupported() {
	[ -n "${PYSHIP_TEST_KUBECONFIG:-}" ] && { echo "the tests run against the cluster of PYSHIP_TEST_KUBECONFIG, not the test control plane"; return; }
	[ "$(id -u)" = 0 ] || { echo "a real node needs root (kubelet, containerd, iptables)"; return; }
	[ "$(uname -s)" = Linux ] || { echo "a real node needs Linux"; return; }
	local c
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		for c in cpu memory pids; do
			grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || { echo "the cgroup v2 controller $c is not available at /sys/fs/cgroup"; return; }
		done
	else
		for c in cpu memory pids; do
			[ -d "/sys/fs/cgroup/$c" ] || { echo "no cgroup v1 $c controller at /sys/fs/cgroup/$c and no cgroup v2"; return; }
		done
	fi
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || { echo "the kernel has no overlay filesystem (containerd's snapshotter)"; return; }
	[ -w /proc/sys/net/ipv4/ip_forward ] || { echo "/proc/sys is read-only (an unprivileged container?)"; return; }
}

# kn_curl METHOD PATH [BODY]: the apiserver as admin; prints the body, fails on HTTP errors.
kn_curl() {
	local d=$KN_KUBE_DIR/pki
	curl -fsS --max-time 10 --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" \
		-X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "https://127.0.0.1:16443$2"
}

kn_bindir() { echo "$(dirname "$(kube_bindir)")/node-bin"; }

# kn_build: kubelet and kube-proxy from the wrapper module (keyed, as the control plane, on its
# go.mod+go.sum), and pause and provisioner from hack/kubenode (keyed on its files).
kn_build() {
	local bin root
	bin=$(kn_bindir)
	root=$(kube_root)
	mkdir -p "$(dirname "$bin")"
	(
		flock 8
		[ -x "$bin/kubelet" ] && [ -x "$bin/kube-proxy" ] && exit 0
		echo "services: kube-node: building kubelet and kube-proxy into $bin (once per machine, a few minutes)" >&2
		local tmp="$bin.tmp.$$" ver=$KUBE_K8S_VERSION
		rm -rf "$tmp" && mkdir -p "$tmp"
		(cd "$root/hack/kube" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w \
			-X k8s.io/component-base/version.gitVersion=$ver \
			-X k8s.io/component-base/version.gitMajor=1 \
			-X k8s.io/component-base/version.gitMinor=$(echo "$ver" | cut -d. -f2)" -o "$tmp/" \
			k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy) >&2 || { rm -rf "$tmp"; exit 1; }
		rm -rf "$bin" && mv "$tmp" "$bin"
	) 8>"$bin.lock" || return 1
	local hash tools
	hash=$(cd "$root/hack/kubenode" && find . -type f | sort | xargs cat | sha256sum | cut -c1-16)
	tools=$PYSHIP_CACHE/kubenode-$hash
	(
		flock 8
		[ -x "$tools/provisioner" ] && [ -x "$tools/pause" ] && exit 0
		echo "services: kube-node: building the pause process and the storage provisioner" >&2
		rm -rf "$tools.tmp" && mkdir -p "$tools.tmp"
		(cd "$root/hack/kubenode" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$tools.tmp/" ./pause ./provisioner) >&2 || exit 1
		rm -rf "$tools" && mv "$tools.tmp" "$tools"
	) 8>"$tools.lock" || return 1
	KN_TOOLS=$tools
}

# kn_pause_image: the pause binary as a one-layer image, pushed to the test registry once.
kn_pause_image() {
	local root dir=$KN_TOOLS/pause-image
	root=$(kube_root)
	curl -fsS -o /dev/null -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://127.0.0.1:5000/v2/pyship-node/pause/manifests/1" 2>/dev/null && return 0
	rm -rf "$dir" && mkdir -p "$dir/root"
	cp "$KN_TOOLS/pause" "$dir/root/pause"
	tar -C "$dir/root" --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -cf "$dir/rootfs.tar" pause
	(cd "$root" && go run ./hack/rootfs2oci "$dir/rootfs.tar" "$dir/layout" pause /pause &&
		go run ./hack/pushbase "oci-layout:$dir/layout:pause" "$KN_PAUSE_REF") >&2
}

# kn_sysctls_save: remember, once, the values the kubelet and the bridge plugin change.
kn_sysctls_save() {
	[ -f "$SVC_DIR/sysctl.orig" ] && return 0
	local k
	for k in $KN_SYSCTLS; do echo "$k=$(sysctl -n "$k")"; done >"$SVC_DIR/sysctl.orig.tmp"
	mv "$SVC_DIR/sysctl.orig.tmp" "$SVC_DIR/sysctl.orig"
}

# kn_remember_dir DIR: note that start created DIR (stop removes only what start created).
kn_remember_dir() {
	[ -e "$1" ] || { mkdir -p "$1" && echo "$1" >>"$SVC_DIR/created-dirs"; }
}

kn_cgroups() {
	local h
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		# cgroup v2: the pods' controllers enabled below the root and below the node's cgroup.
		mkdir -p "/sys/fs/cgroup/$KN_CGROUP"
		local c
		for c in cpu cpuset memory pids io hugetlb; do
			grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || continue
			echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
			echo "+$c" >"/sys/fs/cgroup/$KN_CGROUP/cgroup.subtree_control" 2>/dev/null
		done
		return 0
	fi
	for h in /sys/fs/cgroup/*/; do
		[ "$h" = /sys/fs/cgroup/unified/ ] && continue
		mkdir -p "$h$KN_CGROUP"
		if [ -f "${h}cpuset.cpus" ] && [ -z "$(cat "$h$KN_CGROUP/cpuset.cpus")" ]; then
			cat "${h}cpuset.cpus" >"$h$KN_CGROUP/cpuset.cpus"
			cat "${h}cpuset.mems" >"$h$KN_CGROUP/cpuset.mems"
		fi
	done
}

# kn_hosts: the node's name resolves to its IP from /etc/hosts, so the apiserver reaches the
# kubelet (logs, exec) without asking a DNS server (it prefers the Hostname address).
kn_hosts() {
	grep -q " $KN_NODE # pyship kube-node$" /etc/hosts && return 0
	echo "$KN_GATEWAY $KN_NODE # pyship kube-node" >>/etc/hosts
}

kn_network() {
	if ! ip link show "$KN_BRIDGE" >/dev/null 2>&1; then
		ip link add "$KN_BRIDGE" type bridge
		ip addr add "$KN_GATEWAY/24" dev "$KN_BRIDGE"
	fi
	ip link set "$KN_BRIDGE" up
	# Service IPs go to the bridge, never out of the default route (before kube-proxy's DNAT
	# rules exist, or for a Service without them).
	ip route replace "$KN_SERVICE_CIDR" dev "$KN_BRIDGE" src "$KN_GATEWAY"
}

# kn_guard: the PYSHIP-NODE-FWD and PYSHIP-NODE-OUT chains, first in FORWARD and OUTPUT
# (inserted after kube-proxy's jumps, which it adds only when missing): a pod's packets stay on
# the bridge, nothing from elsewhere is forwarded to a pod, a Service IP leads only to pods, and
# pods cannot reach the kubelet (it listens on the bridge's address, the node's IP).
kn_guard() {
	local ipt="iptables -w 10"
	$ipt -N PYSHIP-NODE-FWD 2>/dev/null || $ipt -F PYSHIP-NODE-FWD
	$ipt -A PYSHIP-NODE-FWD -s "$KN_POD_CIDR" -o "$KN_BRIDGE" -j RETURN
	$ipt -A PYSHIP-NODE-FWD -s "$KN_POD_CIDR" -j DROP
	$ipt -A PYSHIP-NODE-FWD -o "$KN_BRIDGE" -j DROP
	$ipt -A PYSHIP-NODE-FWD -m conntrack --ctstate DNAT --ctorigdst "$KN_SERVICE_CIDR" -j DROP
	$ipt -N PYSHIP-NODE-IN 2>/dev/null || $ipt -F PYSHIP-NODE-IN
	$ipt -A PYSHIP-NODE-IN -i "$KN_BRIDGE" -p tcp -m multiport --dports 20248,20249,20250,20256 -j DROP
	# The machine's loopback services (S3, the registry) answer pods at the bridge's address.
	$ipt -t nat -N PYSHIP-NODE-HOST 2>/dev/null || $ipt -t nat -F PYSHIP-NODE-HOST
	$ipt -t nat -A PYSHIP-NODE-HOST -i "$KN_BRIDGE" -d "$KN_GATEWAY" -p tcp ! --dport 20250 -j DNAT --to-destination 127.0.0.1
	$ipt -t nat -C PREROUTING -j PYSHIP-NODE-HOST 2>/dev/null || $ipt -t nat -I PREROUTING 1 -j PYSHIP-NODE-HOST
	sysctl -q -w "net.ipv4.conf.$KN_BRIDGE.route_localnet=1"
	$ipt -N PYSHIP-NODE-OUT 2>/dev/null || $ipt -F PYSHIP-NODE-OUT
	$ipt -A PYSHIP-NODE-OUT -m conntrack --ctstate DNAT --ctorigdst "$KN_SERVICE_CIDR" ! -d "$KN_POD_CIDR" -j REJECT
	local c
	for c in FORWARD:PYSHIP-NODE-FWD INPUT:PYSHIP-NODE-IN OUTPUT:PYSHIP-NODE-OUT; do
		while $ipt -D "${c%%:*}" -j "${c#*:}" 2>/dev/null; do :; done
		$ipt -I "${c%%:*}" 1 -j "${c#*:}"
	done
}

# kn_write FILE: stdin into FILE, only when it differs (kube-proxy exits when its file changes).
kn_write() {
	cat >"$1.tmp"
	if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv "$1.tmp" "$1" && KN_CHANGED="$KN_CHANGED ${1##*/}"; fi
}

# kn_restart_changed NAME FILE...: stop NAME when start rewrote one of its files, so that it
# starts again with them (an idempotent start applies a newer version of this script).
kn_restart_changed() {
	local name=$1 f
	shift
	for f in "$@"; do
		case " $KN_CHANGED " in *" $f "*)
			pid_alive "$SVC_DIR/$name.pid" && echo "services: kube-node: restarting $name ($f changed)" >&2
			stop_pidfile "$SVC_DIR/$name.pid"
			return 0 ;;
		esac
	done
}

kn_write_configs() {
	local kc=$1 d=$SVC_DIR
	mkdir -p "$d/certs.d/127.0.0.1:5000" "$d/cni/net.d" "$d/cni/ipam" "$d/kubelet" "$d/volumes"
	kn_write "$d/certs.d/127.0.0.1:5000/hosts.toml" <<EOF
server = "http://127.0.0.1:5000"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
EOF
	# restrict_oom_score_adj: this VM gives no CAP_SYS_RESOURCE (every sandbox fails without it).
	kn_write "$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$KN_PAUSE_REF"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$d/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$d/certs.d"
EOF
	kn_write "$d/cni/net.d/10-pyship-node.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "pyship-node", "plugins": [
  {"type": "bridge", "bridge": "$KN_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$d/cni/ipam", "ranges": [[{"subnet": "$KN_POD_CIDR", "gateway": "$KN_GATEWAY"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}
]}
EOF
	kn_write "$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $KN_GATEWAY
port: 20250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 20248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$KN_CGROUP
failSwapOn: false
containerRuntimeEndpoint: unix://$d/containerd.sock
imageServiceEndpoint: unix://$d/containerd.sock
podCIDR: $KN_POD_CIDR
registerWithTaints:
- {key: $KN_TAINT_KEY, value: "true", effect: NoSchedule}
serializeImagePulls: false
makeIPTablesUtilChains: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
nodeStatusReportFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 0s
resolvConf: /etc/resolv.conf
EOF
	kn_write "$d/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $kc}
mode: iptables
hostnameOverride: $KN_NODE
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
clusterCIDR: $KN_POD_CIDR
nodePortAddresses: ["$KN_GATEWAY/32"]
iptables: {localhostNodePorts: false, masqueradeAll: false, syncPeriod: 5s, minSyncPeriod: 0s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

kn_node_ready() {
	kn_curl GET "/api/v1/nodes/$KN_NODE" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

kn_storage_class() {
	kn_curl GET "/apis/storage.k8s.io/v1/storageclasses/$KN_STORAGE_CLASS" >/dev/null 2>&1 && return 0
	kn_curl POST /apis/storage.k8s.io/v1/storageclasses '{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
  "metadata": {"name": "'"$KN_STORAGE_CLASS"'"}, "provisioner": "pyship.test/hostpath",
  "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}' >/dev/null
}

kn_healthy() {
	local c
	for c in containerd kubelet kube-proxy provisioner; do
		pid_alive "$SVC_DIR/$c.pid" || return 1
	done
	kn_node_ready && iptables -w 10 -C FORWARD -j PYSHIP-NODE-FWD 2>/dev/null &&
		iptables -w 10 -t nat -C PREROUTING -j PYSHIP-NODE-HOST 2>/dev/null &&
		curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:20256/healthz
}

kn_exports() {
	echo "export KUBECONFIG=$1"
	echo "export PYSHIP_KUBE_REAL_NODE=$KN_NODE"
	echo "export PYSHIP_KUBE_REAL_NODE_ANNOTATIONS='{\"scheduler.alpha.kubernetes.io/node-selector\": \"$KN_LABEL=real\", \"scheduler.alpha.kubernetes.io/defaultTolerations\": \"[{\\\"key\\\": \\\"$KN_TAINT_KEY\\\", \\\"operator\\\": \\\"Equal\\\", \\\"value\\\": \\\"true\\\", \\\"effect\\\": \\\"NoSchedule\\\"}]\"}'"
	echo "export PYSHIP_KUBE_STORAGE_CLASS=$KN_STORAGE_CLASS"
	echo "export PYSHIP_KUBE_NODE_HOST=$KN_GATEWAY"
	echo "export PYSHIP_TEST_REGISTRY=127.0.0.1:5000"
}

svc_start() {
	local why
	why=$(kn_unsupported)
	if [ -n "$why" ]; then
		echo "services: kube-node: not started: $why" >&2
		echo "export PYSHIP_KUBE_NODE_SKIP='$why'"
		return 0
	fi
	local here kc
	here=$(dirname "${BASH_SOURCE[0]}")/..
	kc=$("$here/services" start kube | sed -n 's/^export KUBECONFIG=//p') || return 1
	"$here/services" start registry >/dev/null || return 1
	if kn_healthy; then
		kn_exports "$kc"
		return 0
	fi
	apt_install containerd runc containernetworking-plugins iptables conntrack
	kn_build || return 1
	kn_pause_image || { echo "services: kube-node: building or pushing the pause image failed" >&2; return 1; }
	kn_sysctls_save
	local dir
	for dir in /var/log/pods /var/log/containers /var/lib/cni /var/lib/kubelet /run/containerd; do kn_remember_dir "$dir"; done
	kn_cgroups
	kn_network
	kn_hosts
	KN_CHANGED=
	kn_write_configs "$kc"
	local bin
	bin=$(kn_bindir)
	kn_write "$SVC_DIR/kubelet.args" < <(printf '%s\n' --config="$SVC_DIR/kubelet.yaml" --kubeconfig="$kc" \
		--hostname-override="$KN_NODE" --node-ip="$KN_GATEWAY" --root-dir="$SVC_DIR/kubelet" \
		--cert-dir="$SVC_DIR/kubelet/pki" --node-labels="$KN_LABEL=real")
	kn_restart_changed containerd containerd.toml
	kn_restart_changed kubelet kubelet.yaml kubelet.args
	kn_restart_changed kube-proxy kube-proxy.yaml
	local args
	mapfile -t args <"$SVC_DIR/kubelet.args"
	kube_run containerd containerd --config "$SVC_DIR/containerd.toml"
	kube_wait_for containerd 30 ctr --address "$SVC_DIR/containerd.sock" version || return 1
	kube_run kubelet "$bin/kubelet" "${args[@]}"
	kube_wait_for "node $KN_NODE" 90 kn_node_ready || return 1
	kube_run kube-proxy "$bin/kube-proxy" --config="$SVC_DIR/kube-proxy.yaml"
	kube_wait_for kube-proxy 60 curl -fsS --max-time 2 http://127.0.0.1:20256/healthz || return 1
	kn_guard
	kube_wait_for "StorageClass $KN_STORAGE_CLASS" 30 kn_storage_class || return 1
	kube_run provisioner "$KN_TOOLS/provisioner" -kubeconfig "$kc" -name pyship.test/hostpath \
		-dir "$SVC_DIR/volumes" -node "$KN_NODE"
	kn_exports "$kc"
}

# kn_kill_cgroup: kill every process in the node's cgroups (the pods' containers), then remove
# the cgroups, deepest first.
kn_kill_cgroup() {
	local h procs
	for _ in $(seq 50); do
		procs=$(find /sys/fs/cgroup/*/"$KN_CGROUP" /sys/fs/cgroup/"$KN_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
		[ -z "$procs" ] && break
		# shellcheck disable=SC2086
		kill -9 $procs 2>/dev/null || true
		sleep 0.1
	done
	for h in /sys/fs/cgroup/*/"$KN_CGROUP" /sys/fs/cgroup/"$KN_CGROUP"; do
		[ -d "$h" ] || continue
		find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# kn_kill_shims: containerd's shims for this node (their command line names its socket).
kn_kill_shims() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "-address $SVC_DIR/containerd.sock " && kill -9 "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# kn_netns_cleanup: the network namespaces of this node's pods (an address in the pod range).
kn_netns_cleanup() {
	local ns prefix=${KN_POD_CIDR%.*}.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		ip netns exec "$ns" ip -4 -o addr 2>/dev/null | grep -q " inet ${prefix//./\\.}" && ip netns delete "$ns"
	done
	return 0
}

# kn_iptables_cleanup: what `kube-proxy --cleanup` leaves of the KUBE-* chains (its canaries,
# KUBE-MARK-MASQ, the kubelet's KUBE-FIREWALL): the jumps to them, then the chains. This node's
# kubelet and kube-proxy are the only ones on the machine that make KUBE-* chains.
kn_iptables_cleanup() {
	local t rule ch
	for t in filter nat mangle; do
		iptables-save -t "$t" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | sed 's/^-A /-D /' | while read -r rule; do
			eval "iptables -w 10 -t $t $rule" 2>/dev/null
		done
		for ch in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do iptables -w 10 -t "$t" -F "$ch"; done
		for ch in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do iptables -w 10 -t "$t" -X "$ch"; done
	done
}

svc_stop() {
	# Best effort: every step runs whatever the ones before it found.
	set +e
	local kc=$KN_KUBE_DIR/pki/admin.kubeconfig
	[ -f "$kc" ] && kn_curl DELETE "/api/v1/nodes/$KN_NODE" >/dev/null 2>&1
	stop_pidfile "$SVC_DIR/provisioner.pid"
	stop_pidfile "$SVC_DIR/kube-proxy.pid"
	stop_pidfile "$SVC_DIR/kubelet.pid"
	kn_kill_cgroup
	kn_kill_shims
	stop_pidfile "$SVC_DIR/containerd.pid"
	kn_netns_cleanup
	# Mounts under the state folder (pod volumes, overlay roots, shm), deepest first.
	local m
	for m in $(awk -v d="$SVC_DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	if [ -x "$(kn_bindir)/kube-proxy" ] && iptables -w 10 -t nat -L KUBE-SERVICES -n >/dev/null 2>&1; then
		"$(kn_bindir)/kube-proxy" --cleanup >/dev/null 2>&1 || true
	fi
	kn_iptables_cleanup
	while iptables -w 10 -t nat -D PREROUTING -j PYSHIP-NODE-HOST 2>/dev/null; do :; done
	iptables -w 10 -t nat -F PYSHIP-NODE-HOST 2>/dev/null && iptables -w 10 -t nat -X PYSHIP-NODE-HOST 2>/dev/null
	# libcni's cache of this node's sandboxes (those whose CNI DEL never ran: killed above).
	rm -f /var/lib/cni/results/pyship-node-*
	local sb
	for sb in "$SVC_DIR"/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*/; do
		[ -d "$sb" ] && rm -f /var/lib/cni/results/*-"$(basename "$sb")"-*
	done
	local c
	for c in FORWARD:PYSHIP-NODE-FWD INPUT:PYSHIP-NODE-IN OUTPUT:PYSHIP-NODE-OUT; do
		while iptables -w 10 -D "${c%%:*}" -j "${c#*:}" 2>/dev/null; do :; done
		iptables -w 10 -F "${c#*:}" 2>/dev/null && iptables -w 10 -X "${c#*:}" 2>/dev/null
	done
	ip route del "$KN_SERVICE_CIDR" dev "$KN_BRIDGE" 2>/dev/null
	ip link del "$KN_BRIDGE" 2>/dev/null
	if grep -q " # pyship kube-node$" /etc/hosts; then
		grep -v " # pyship kube-node$" /etc/hosts >/etc/hosts.pyship-tmp && cat /etc/hosts.pyship-tmp >/etc/hosts
		rm -f /etc/hosts.pyship-tmp
	fi
	if [ -f "$SVC_DIR/sysctl.orig" ]; then
		sysctl -q -p "$SVC_DIR/sysctl.orig" >/dev/null 2>&1
		rm -f "$SVC_DIR/sysctl.orig"
	fi
	if [ -f "$SVC_DIR/created-dirs" ]; then
		sort -r "$SVC_DIR/created-dirs" | while read -r dir; do rm -rf "$dir"; done
		rm -f "$SVC_DIR/created-dirs"
	fi
	[ -f "$kc" ] && kn_curl DELETE "/apis/storage.k8s.io/v1/storageclasses/$KN_STORAGE_CLASS" >/dev/null 2>&1
	rm -rf "$SVC_DIR/containerd" "$SVC_DIR/kubelet" "$SVC_DIR/volumes" "$SVC_DIR/cni" "$SVC_DIR/runc"
	return 0
}

svc_status() { [ -z "$(kn_unsupported)" ] && kn_healthy; }
