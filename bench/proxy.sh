#!/usr/bin/env bash
# bench/proxy.sh: requests per second and latency of pyship's proxy against nginx (Debian), both
# in front of the same backend, load from wrk. Prints a markdown table; "proxy CPU/req" is the
# proxy's own CPU time (user + system, from /proc) over the run divided by the requests served,
# which a busy machine disturbs far less than requests/s.
# Then the same over HTTPS (keep-alive, and a new TLS handshake per request) and HTTP/2 over TLS
# (h2load), each with nginx terminating TLS too; HTTP_ONLY=1 skips those.
#   DURATION=10s CONNECTIONS=64 THREADS=2 bench/proxy.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2}
scripts/services start bench >/dev/null # installs nginx and wrk from Debian when missing
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/backend" ./bench/backend
go build -o "$work/proxybench" ./bench/proxybench
# A throwaway certificate for the HTTPS and HTTP/2 runs (ports 18083 nginx, 18084 pyship).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
"$work/backend" -listen 127.0.0.1:18080 & pids+=($!)
"$work/proxybench" -listen 127.0.0.1:18081 -backend 127.0.0.1:18080 \
	-tls-listen 127.0.0.1:18084 -tls-cert "$work/cert.pem" -tls-key "$work/key.pem" & pids+=($!)
proxypid=$!
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/error.log;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:18080; keepalive 128; }
  server {
    listen 127.0.0.1:18082;
    listen 127.0.0.1:18083 ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for port in 18080 18081 18082; do
	for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done
for port in 18083 18084; do
	for _ in $(seq 100); do curl -kfs -o /dev/null "https://127.0.0.1:$port/" && break; sleep 0.05; done
done
ticks() { # the CPU clock ticks used so far by the processes given
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
run() { # name url [pids of the proxy]; MODE=h2 loads with h2load, CLOSE=1 asks for a new connection per request
	local name=$1 url=$2 t0 n cpu=— rps p50=— p99=— out
	shift 2
	out="$work/$(printf %s "$name" | tr -c 'A-Za-z0-9' _).txt"
	t0=$(ticks "$@")
	if [ "${MODE:-}" = h2 ]; then
		h2load -c"$CONNECTIONS" -m10 -t"$THREADS" -D"${DURATION%s}" "$url" >"$out" 2>&1
		rps=$(awk '/^finished in/ {print $4}' "$out")
		n=$(awk '/^requests:/ {print $8}' "$out")
	else
		local hdr=()
		[ -n "${CLOSE:-}" ] && hdr=(-H "Connection: close")
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${hdr[@]}" "$url" >"$out"
		rps=$(awk '/Requests\/sec/ {print $2}' "$out")
		p50=$(awk '$1=="50%" {print $2}' "$out")
		p99=$(awk '$1=="99%" {print $2}' "$out")
		n=$(awk '/requests in/ {print $1}' "$out")
	fi
	if [ $# -gt 0 ] && [ "${n:-0}" -gt 0 ]; then
		cpu="$(( ($(ticks "$@") - t0) * 1000000 / $(getconf CLK_TCK) / n )) µs"
	fi
	echo "| $name | $rps | $p50 | $p99 | $cpu |"
}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F)"
echo
echo "| target | requests/s | p50 | p99 | proxy CPU/req |"
echo "|---|---|---|---|---|"
nginxpids=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
nginxname="nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
run "backend direct" http://127.0.0.1:18080/
# shellcheck disable=SC2086 # one pid per word
run "$nginxname" http://127.0.0.1:18082/ $nginxpids
run "pyship proxy" http://127.0.0.1:18081/ "$proxypid"
if [ -z "${HTTP_ONLY:-}" ]; then
	# shellcheck disable=SC2086
	run "$nginxname, HTTPS" https://127.0.0.1:18083/ $nginxpids
	run "pyship proxy, HTTPS" https://127.0.0.1:18084/ "$proxypid"
	# shellcheck disable=SC2086
	CLOSE=1 run "$nginxname, HTTPS, a TLS handshake per request" https://127.0.0.1:18083/ $nginxpids
	CLOSE=1 run "pyship proxy, HTTPS, a TLS handshake per request" https://127.0.0.1:18084/ "$proxypid"
	# shellcheck disable=SC2086
	MODE=h2 run "$nginxname, HTTP/2 (h2load -m10)" https://127.0.0.1:18083/ $nginxpids
	MODE=h2 run "pyship proxy, HTTP/2 (h2load -m10)" https://127.0.0.1:18084/ "$proxypid"
fi
