# git: Debian's git served on loopback by hack/gitserver: over smart HTTP by `git http-backend`
# (through Go's net/http/cgi), plain without authentication on 127.0.0.1:9418 and HTTPS
# (self-signed) with basic authentication on 127.0.0.1:9443; and over SSH on 127.0.0.1:9422
# (`git upload-pack`/`receive-pack` for one client key). Repositories are the bare folders
# NAME.git under PYSHIP_TEST_GIT_ROOT (a test creates its own).
# Exports PYSHIP_TEST_GIT_HTTP, PYSHIP_TEST_GIT_HTTPS, PYSHIP_TEST_GIT_SSH (base URLs),
# PYSHIP_TEST_GIT_ROOT, PYSHIP_TEST_GIT_USER, PYSHIP_TEST_GIT_PASSWORD, PYSHIP_TEST_GIT_CA (the
# certificate to trust), PYSHIP_TEST_GIT_SSH_KEY (the client's private key) and
# PYSHIP_TEST_GIT_SSH_KNOWN_HOSTS.
git_user=pyship
git_pass=pyship-git-pass
git_http=127.0.0.1:9418
git_https=127.0.0.1:9443
git_ssh=127.0.0.1:9422

git_server_bin() {
	local root sum
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	sum=$(cat "$root/hack/gitserver/main.go" | sha256sum | cut -c1-16)
	echo "$PYSHIP_CACHE/gitserver/$sum/gitserver"
}

svc_start() {
	apt_install git openssl curl
	local bin root
	bin=$(git_server_bin)
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [ ! -x "$bin" ]; then
		mkdir -p "$(dirname "$bin")"
		(cd "$root" && go build -o "$bin.tmp.$$" ./hack/gitserver) >&2
		mv "$bin.tmp.$$" "$bin"
	fi
	if [ ! -f "$SVC_DIR/tls/cert.pem" ]; then
		mkdir -p "$SVC_DIR/tls"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			-keyout "$SVC_DIR/tls/key.tmp.pem" -out "$SVC_DIR/tls/cert.tmp.pem" 2>/dev/null
		mv "$SVC_DIR/tls/key.tmp.pem" "$SVC_DIR/tls/key.pem"
		mv "$SVC_DIR/tls/cert.tmp.pem" "$SVC_DIR/tls/cert.pem"
	fi
	mkdir -p "$SVC_DIR/repos"
	# A server built from an older hack/gitserver is replaced (this service is only pyship's).
	if pid_alive "$SVC_DIR/pid" && [ "$(cat "$SVC_DIR/bin" 2>/dev/null)" != "$bin" ]; then
		stop_pidfile "$SVC_DIR/pid"
	fi
	if ! pid_alive "$SVC_DIR/pid"; then
		setsid "$bin" -root "$SVC_DIR/repos" -http "$git_http" -https "$git_https" \
			-cert "$SVC_DIR/tls/cert.pem" -key "$SVC_DIR/tls/key.pem" \
			-user "$git_user" -password "$git_pass" -ssh "$git_ssh" -ssh-dir "$SVC_DIR/ssh" \
			>>"$SVC_DIR/log" 2>&1 </dev/null 9>&- &
		echo $! >"$SVC_DIR/pid"
		echo "$bin" >"$SVC_DIR/bin"
		wait_http "http://$git_http/" 10
		wait_http "https://$git_https/" 10
	fi
	echo "export PYSHIP_TEST_GIT_HTTP=http://$git_http"
	echo "export PYSHIP_TEST_GIT_HTTPS=https://$git_https"
	echo "export PYSHIP_TEST_GIT_ROOT=$SVC_DIR/repos"
	echo "export PYSHIP_TEST_GIT_USER=$git_user"
	echo "export PYSHIP_TEST_GIT_PASSWORD=$git_pass"
	echo "export PYSHIP_TEST_GIT_CA=$SVC_DIR/tls/cert.pem"
	echo "export PYSHIP_TEST_GIT_SSH=ssh://git@$git_ssh"
	echo "export PYSHIP_TEST_GIT_SSH_KEY=$SVC_DIR/ssh/client_key"
	echo "export PYSHIP_TEST_GIT_SSH_KNOWN_HOSTS=$SVC_DIR/ssh/known_hosts"
}
svc_stop() { stop_pidfile "$SVC_DIR/pid"; }
svc_status() { pid_alive "$SVC_DIR/pid"; }
