# acme: Pebble (Let's Encrypt's ACME test server) on loopback, with pebble-challtestsrv as its
# DNS server answering 127.0.0.1 for every name, so challenges are really validated: Pebble
# connects to 127.0.0.1 on PYSHIP_TEST_ACME_HTTP_PORT (HTTP-01) and PYSHIP_TEST_ACME_TLS_PORT
# (TLS-ALPN-01), where a test's edge must listen. Tests that take those ports hold
# PYSHIP_TEST_ACME_LOCK (flock) while they do, as go test runs packages at once.
# Certificates live 60 s, so renewal before expiry happens within a test.
# Exports PYSHIP_TEST_ACME_DIRECTORY (the directory URL), PYSHIP_TEST_ACME_CA (Pebble's own
# HTTPS CA, to trust for the directory), PYSHIP_TEST_ACME_ROOT (the root that issues the
# certificates, to trust for the edge), the two ports and the lock.
PEBBLE_VERSION=v2.10.3
acme_bin() { echo "$PYSHIP_CACHE/pebble-$PEBBLE_VERSION/bin"; }
acme_dns=127.0.0.1:18053
svc_start() {
	apt_install curl
	local bin mod
	bin=$(acme_bin)
	if [ ! -x "$bin/pebble" ] || [ ! -x "$bin/pebble-challtestsrv" ]; then
		echo "services: building Pebble $PEBBLE_VERSION (about a minute)" >&2
		local tmp
		tmp=$(mktemp -d "$PYSHIP_CACHE/pebble-build.XXXXXX")
		(cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS= go install -trimpath \
			"github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" \
			"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION") >&2 || { rm -rf "$tmp"; return 1; }
		mkdir -p "$bin"
		mv "$tmp/pebble" "$tmp/pebble-challtestsrv" "$bin/"
		rm -rf "$tmp"
	fi
	mod=$(cd /tmp && GOFLAGS= go mod download -json "github.com/letsencrypt/pebble/v2@$PEBBLE_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -f "$mod/test/certs/pebble.minica.pem" ] || { echo "services: Pebble's module has no test/certs (at '$mod')" >&2; return 1; }
	cat >"$SVC_DIR/pebble.json" <<CFG
{
  "pebble": {
    "listenAddress": "127.0.0.1:14000",
    "managementListenAddress": "127.0.0.1:15000",
    "certificate": "$mod/test/certs/localhost/cert.pem",
    "privateKey": "$mod/test/certs/localhost/key.pem",
    "httpPort": 15080,
    "tlsPort": 15443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "retryAfter": {"authz": 1, "order": 1},
    "keyAlgorithm": "ecdsa",
    "profiles": {"default": {"description": "short-lived test certificates", "validityPeriod": 60}}
  }
}
CFG
	if ! pid_alive "$SVC_DIR/challtestsrv.pid"; then
		nohup "$bin/pebble-challtestsrv" -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dnsserver "$acme_dns" \
			-management 127.0.0.1:18055 -http01 "" -https01 "" -tlsalpn01 "" -doh "" \
			>"$SVC_DIR/challtestsrv.log" 2>&1 9>&- &
		echo $! >"$SVC_DIR/challtestsrv.pid"
	fi
	if ! pid_alive "$SVC_DIR/pebble.pid"; then
		rm -f "$SVC_DIR/root.pem"
		PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 nohup "$bin/pebble" -config "$SVC_DIR/pebble.json" \
			-dnsserver "$acme_dns" >"$SVC_DIR/pebble.log" 2>&1 9>&- &
		echo $! >"$SVC_DIR/pebble.pid"
	fi
	wait_http https://127.0.0.1:14000/dir 20
	# Pebble makes a new root at each start: fetch the running one's.
	if [ ! -s "$SVC_DIR/root.pem" ]; then
		curl -fsS --cacert "$mod/test/certs/pebble.minica.pem" https://127.0.0.1:15000/roots/0 >"$SVC_DIR/root.tmp"
		mv "$SVC_DIR/root.tmp" "$SVC_DIR/root.pem"
	fi
	echo "export PYSHIP_TEST_ACME_DIRECTORY=https://127.0.0.1:14000/dir"
	echo "export PYSHIP_TEST_ACME_CA=$mod/test/certs/pebble.minica.pem"
	echo "export PYSHIP_TEST_ACME_ROOT=$SVC_DIR/root.pem"
	echo "export PYSHIP_TEST_ACME_HTTP_PORT=15080"
	echo "export PYSHIP_TEST_ACME_TLS_PORT=15443"
	echo "export PYSHIP_TEST_ACME_LOCK=$SVC_DIR/ports.lock"
}
svc_stop() {
	stop_pidfile "$SVC_DIR/pebble.pid"
	stop_pidfile "$SVC_DIR/challtestsrv.pid"
}
svc_status() { pid_alive "$SVC_DIR/pebble.pid" && pid_alive "$SVC_DIR/challtestsrv.pid"; }
