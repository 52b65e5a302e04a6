# bench: the tools bench/proxy.sh compares against and loads with: nginx, wrk and h2load
# (Debian's nghttp2-client), openssl for a test certificate.
# Not a server: bench/proxy.sh starts its own nginx with its own config.
svc_start() {
	apt_install nginx wrk curl bc nghttp2-client openssl
	echo "export PYSHIP_BENCH_NGINX=$(command -v nginx)"
	echo "export PYSHIP_BENCH_WRK=$(command -v wrk)"
}
svc_stop() { :; }
svc_status() { command -v nginx >/dev/null && command -v wrk >/dev/null && command -v h2load >/dev/null; }
