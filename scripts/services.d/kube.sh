# kube: a real Kubernetes control plane on loopback for tests: etcd + kube-apiserver +
# kube-controller-manager + kube-scheduler built from the Go module proxy (hack/kube pins the
# versions), and kwok for one fake node whose pods go Running/Ready.
# Binaries are cached in $PYSHIP_CACHE/kube-<hash of hack/kube/go.mod+go.sum>/bin; state, certs and
# logs live in $SVC_DIR. Exports KUBECONFIG (cluster-admin) and PYSHIP_KUBE_NODE.
# PYSHIP_TEST_KUBECONFIG=FILE runs the tests against that cluster instead (needs cluster-admin).

kube_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

kube_bindir() {
	local root hash
	root=$(kube_root)
	hash=$(cat "$root/hack/kube/go.mod" "$root/hack/kube/go.sum" | sha256sum | cut -c1-16)
	echo "$PYSHIP_CACHE/kube-$hash/bin"
}

KUBE_BINS="etcd kube-apiserver kube-controller-manager kube-scheduler kwok"
KUBE_K8S_VERSION=v1.32.13
KUBE_KWOK_VERSION=v0.7.0

# kube_build: build the binaries once per wrapper version (shared by every clone on the machine).
kube_build() {
	local bin root
	bin=$(kube_bindir)
	root=$(kube_root)
	mkdir -p "$(dirname "$bin")"
	exec 8>"$(dirname "$bin").lock"
	flock 8
	local b missing=0
	for b in $KUBE_BINS; do [ -x "$bin/$b" ] || missing=1; done
	if [ $missing -eq 0 ]; then exec 8>&-; return 0; fi
	command -v go >/dev/null || { echo "services: kube: go is not on PATH; install Go 1.23+ to build the control plane" >&2; return 1; }
	echo "services: kube: building the control plane into $bin (once per machine, ~5-7 min on 2 cores)" >&2
	local tmp="$bin.tmp.$$"
	rm -rf "$tmp" && mkdir -p "$tmp"
	local ver=$KUBE_K8S_VERSION minor
	minor=$(echo "$ver" | cut -d. -f2)
	(
		cd "$root/hack/kube"
		CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w \
			-X k8s.io/component-base/version.gitVersion=$ver \
			-X k8s.io/component-base/version.gitMajor=1 \
			-X k8s.io/component-base/version.gitMinor=$minor" -o "$tmp/" \
			k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler
		CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
	) >&2 || { rm -rf "$tmp"; return 1; }
	(cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS= go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KUBE_KWOK_VERSION") >&2 || { rm -rf "$tmp"; return 1; }
	rm -rf "$bin" && mv "$tmp" "$bin"
	exec 8>&-
}

# kube_certs: CA, apiserver serving cert, admin client cert, service-account keys, kubeconfig.
kube_certs() {
	local d=$SVC_DIR/pki
	[ -f "$d/admin.kubeconfig" ] && return 0
	command -v openssl >/dev/null || apt_install openssl
	rm -rf "$d" && mkdir -p "$d"
	(
		cd "$d"
		openssl genrsa -out ca.key 2048
		openssl req -x509 -new -nodes -key ca.key -subj "/CN=pyship-test-ca" -days 3650 -out ca.crt
		openssl genrsa -out apiserver.key 2048
		openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr
		printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile apiserver.ext -out apiserver.crt
		openssl genrsa -out admin.key 2048
		openssl req -new -key admin.key -subj "/O=system:masters/CN=pyship-admin" -out admin.csr
		printf 'extendedKeyUsage=clientAuth\n' >admin.ext
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile admin.ext -out admin.crt
		openssl genrsa -out sa.key 2048
		openssl rsa -in sa.key -pubout -out sa.pub
	) >/dev/null 2>&1 || { echo "services: kube: creating certificates with openssl failed" >&2; return 1; }
	cat >"$d/admin.kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pyship-test
  cluster:
    server: https://127.0.0.1:16443
    certificate-authority-data: $(base64 -w0 <"$d/ca.crt")
users:
- name: pyship-admin
  user:
    client-certificate-data: $(base64 -w0 <"$d/admin.crt")
    client-key-data: $(base64 -w0 <"$d/admin.key")
contexts:
- name: pyship-test
  context:
    cluster: pyship-test
    user: pyship-admin
    namespace: default
current-context: pyship-test
EOF
	mv "$d/admin.kubeconfig.tmp" "$d/admin.kubeconfig"
}

# kube_run NAME CMD...: start CMD in the background, logging to $SVC_DIR/NAME.log.
kube_run() {
	local name=$1
	shift
	pid_alive "$SVC_DIR/$name.pid" && return 0
	# Close the lock descriptors: a daemon holding them would block every later start.
	nohup "$@" >"$SVC_DIR/$name.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$SVC_DIR/$name.pid"
}

# kube_curl PATH: GET PATH on the apiserver as admin; prints the body.
kube_curl() {
	local d=$SVC_DIR/pki
	curl -fsS --max-time 5 --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" "https://127.0.0.1:16443$1"
}

# kube_wait_for WHAT SECONDS CMD...: retry CMD until it succeeds or the deadline passes.
kube_wait_for() {
	local what=$1 secs=$2 deadline=$((SECONDS + $2))
	shift 2
	while [ $SECONDS -lt $deadline ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "services: $(basename "$SVC_DIR"): $what not ready within $secs s; logs in $SVC_DIR/*.log" >&2
	return 1
}

kube_node_ready() {
	kube_curl /api/v1/nodes/pyship-node | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

kube_node_create() {
	local d=$SVC_DIR/pki
	kube_curl /api/v1/nodes/pyship-node >/dev/null 2>&1 && return 0
	curl -fsS --max-time 5 --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" \
		-H 'Content-Type: application/json' -X POST https://127.0.0.1:16443/api/v1/nodes -d '{
  "apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "pyship-node",
    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
    "labels": {"kubernetes.io/hostname": "pyship-node", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}},
  "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
             "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}
}' >/dev/null
}

kube_healthy() {
	local c
	for c in etcd apiserver controller-manager scheduler kwok; do
		pid_alive "$SVC_DIR/$c.pid" || return 1
	done
	kube_curl /readyz >/dev/null 2>&1 && kube_node_ready
}

kube_exports() {
	echo "export KUBECONFIG=$SVC_DIR/pki/admin.kubeconfig"
	echo "export PYSHIP_KUBE_NODE=pyship-node"
	echo "export PYSHIP_KUBE_BIN=$(kube_bindir)"
}

# kube_apiserver_args: the apiserver's flags, one a line. A running apiserver started with other
# flags (an older version of this script) is restarted with these by the next start.
# PodNodeSelector and PodTolerationRestriction act only on namespaces annotated for them: the
# real-pod tier (kube-node.sh) uses them to keep its pods on the real node and everyone else's off.
kube_apiserver_args() {
	local d=$SVC_DIR/pki
	printf '%s\n' --etcd-servers=http://127.0.0.1:12379 \
		--bind-address=127.0.0.1 --secure-port=16443 --advertise-address=127.0.0.1 \
		--endpoint-reconciler-type=none --tls-cert-file="$d/apiserver.crt" --tls-private-key-file="$d/apiserver.key" \
		--client-ca-file="$d/ca.crt" --service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$d/sa.pub" --service-account-signing-key-file="$d/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 --authorization-mode=RBAC --allow-privileged=true \
		--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction \
		--cert-dir "$SVC_DIR/apiserver-certs"
}

# kube_apiserver_current: the running apiserver was started with kube_apiserver_args (its
# command line, whoever started it).
kube_apiserver_current() {
	pid_alive "$SVC_DIR/apiserver.pid" &&
		[ "$(tr '\0' '\n' <"/proc/$(cat "$SVC_DIR/apiserver.pid")/cmdline" | tail -n +2)" = "$(kube_apiserver_args)" ]
}

svc_start() {
	# Opt-in: hand another cluster to whatever asks for this service. The Go tests honour
	# KUBECONFIG themselves (testsvc.Kubeconfig) and then never call this; `start kube` itself
	# always means the test control plane, whatever KUBECONFIG a shell has.
	if [ -n "${PYSHIP_TEST_KUBECONFIG:-}" ]; then
		echo "export KUBECONFIG=$PYSHIP_TEST_KUBECONFIG"
		return 0
	fi
	if kube_healthy && kube_apiserver_current; then
		kube_exports
		return 0
	fi
	local args
	if kube_healthy; then
		# Started by an older version of this script: only the apiserver's flags differ. It is
		# restarted with the binary it runs (no build while the cluster is down; etcd keeps
		# every object), and is back in ~3 s.
		local exe
		exe=$(readlink "/proc/$(cat "$SVC_DIR/apiserver.pid")/exe")
		echo "services: kube: restarting kube-apiserver with this script's flags" >&2
		stop_pidfile "$SVC_DIR/apiserver.pid"
		mapfile -t args < <(kube_apiserver_args)
		kube_run apiserver "$exe" "${args[@]}"
		kube_wait_for kube-apiserver 60 kube_curl /readyz || return 1
		kube_exports
		return 0
	fi
	kube_build
	kube_certs
	local bin d=$SVC_DIR/pki
	bin=$(kube_bindir)
	mkdir -p "$SVC_DIR/etcd" "$SVC_DIR/apiserver-certs"
	kube_run etcd "$bin/etcd" --name local --data-dir "$SVC_DIR/etcd" --unsafe-no-fsync \
		--listen-client-urls http://127.0.0.1:12379 --advertise-client-urls http://127.0.0.1:12379 \
		--listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
		--initial-cluster local=http://127.0.0.1:12380 --listen-metrics-urls http://127.0.0.1:12381
	kube_wait_for etcd 30 curl -fsS --max-time 2 http://127.0.0.1:12379/health || return 1
	mapfile -t args < <(kube_apiserver_args)
	kube_run apiserver "$bin/kube-apiserver" "${args[@]}"
	kube_wait_for kube-apiserver 60 kube_curl /readyz || return 1
	kube_run controller-manager "$bin/kube-controller-manager" --kubeconfig="$d/admin.kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --secure-port=20257 \
		--service-account-private-key-file="$d/sa.key" --root-ca-file="$d/ca.crt" \
		--cluster-signing-cert-file="$d/ca.crt" --cluster-signing-key-file="$d/ca.key" \
		--use-service-account-credentials=false --controllers='*'
	kube_run scheduler "$bin/kube-scheduler" --kubeconfig="$d/admin.kubeconfig" --leader-elect=false \
		--bind-address=127.0.0.1 --secure-port=20259
	kube_run kwok "$bin/kwok" --kubeconfig="$d/admin.kubeconfig" --config=/dev/null \
		--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
		--node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=10.255.0.1 \
		--server-address=127.0.0.1:20247
	kube_wait_for "node object" 30 kube_node_create || return 1
	kube_wait_for "kwok node pyship-node" 60 kube_node_ready || return 1
	kube_wait_for kube-controller-manager 60 curl -ks --max-time 2 -f https://127.0.0.1:20257/healthz || return 1
	kube_wait_for kube-scheduler 60 curl -ks --max-time 2 -f https://127.0.0.1:20259/healthz || return 1
	# The default ServiceAccount appears once the controller-manager runs; pods need it.
	kube_wait_for "default service account" 60 kube_curl /api/v1/namespaces/default/serviceaccounts/default || return 1
	kube_exports
}

svc_stop() {
	local c
	for c in kwok scheduler controller-manager apiserver etcd; do
		stop_pidfile "$SVC_DIR/$c.pid"
	done
}

svc_status() { kube_healthy; }
