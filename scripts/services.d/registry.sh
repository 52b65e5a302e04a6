# registry: Debian's docker-registry (CNCF distribution 2.8) on loopback, twice:
# plain HTTP on 127.0.0.1:5000 and TLS (self-signed) with htpasswd basic auth on 127.0.0.1:5443.
# Exports PYSHIP_TEST_REGISTRY, PYSHIP_TEST_REGISTRY_TLS, PYSHIP_TEST_REGISTRY_USER,
# PYSHIP_TEST_REGISTRY_PASSWORD and PYSHIP_TEST_REGISTRY_CA (the certificate to trust).
reg_user=pyship
reg_pass=pyship-test-pass
reg_write_config() {
	local name=$1 addr=$2 extra=$3
	mkdir -p "$SVC_DIR/$name"
	cat >"$SVC_DIR/$name/config.yml" <<CFG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $SVC_DIR/$name/data
  delete:
    enabled: true
http:
  addr: $addr
$extra
CFG
}
reg_run() {
	local name=$1 url=$2
	if ! pid_alive "$SVC_DIR/$name.pid"; then
		nohup docker-registry serve "$SVC_DIR/$name/config.yml" >"$SVC_DIR/$name.log" 2>&1 9>&- &
		echo $! >"$SVC_DIR/$name.pid"
	fi
	wait_http "$url" 10
}
svc_start() {
	apt_install docker-registry apache2-utils openssl curl
	if [ ! -f "$SVC_DIR/tls/cert.pem" ]; then
		mkdir -p "$SVC_DIR/tls"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			-keyout "$SVC_DIR/tls/key.pem" -out "$SVC_DIR/tls/cert.pem" 2>/dev/null
		htpasswd -Bbn "$reg_user" "$reg_pass" >"$SVC_DIR/tls/htpasswd"
	fi
	reg_write_config plain 127.0.0.1:5000 ""
	reg_write_config tls 127.0.0.1:5443 "  tls:
    certificate: $SVC_DIR/tls/cert.pem
    key: $SVC_DIR/tls/key.pem
auth:
  htpasswd:
    realm: pyship-test
    path: $SVC_DIR/tls/htpasswd"
	reg_run plain http://127.0.0.1:5000/v2/
	reg_run tls https://127.0.0.1:5443/v2/
	echo "export PYSHIP_TEST_REGISTRY=127.0.0.1:5000"
	echo "export PYSHIP_TEST_REGISTRY_TLS=127.0.0.1:5443"
	echo "export PYSHIP_TEST_REGISTRY_USER=$reg_user"
	echo "export PYSHIP_TEST_REGISTRY_PASSWORD=$reg_pass"
	echo "export PYSHIP_TEST_REGISTRY_CA=$SVC_DIR/tls/cert.pem"
}
svc_stop() {
	stop_pidfile "$SVC_DIR/plain.pid"
	stop_pidfile "$SVC_DIR/tls.pid"
}
svc_status() { pid_alive "$SVC_DIR/plain.pid" && pid_alive "$SVC_DIR/tls.pid"; }
