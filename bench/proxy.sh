#!/usr/bin/env bash
# bench/proxy.sh: requests per second and latency of pyship's proxy against nginx (Debian), both
# in front of the same backend, load from wrk. Prints a markdown table; "proxy CPU/req" is the
# proxy's own CPU time (user + system, from /proc) over the run divided by the requests served,
# which a busy machine disturbs far less than requests/s.
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
"$work/backend" -listen 127.0.0.1:18080 & pids+=($!)
"$work/proxybench" -listen 127.0.0.1:18081 -backend 127.0.0.1:18080 & pids+=($!)
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
ticks() { # the CPU clock ticks used so far by the processes given
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
run() { # name port [pids of the proxy]
	local name=$1 port=$2 t0 n cpu=—
	shift 2
	t0=$(ticks "$@")
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port/" >"$work/$name.txt"
	local rps p50 p99
	rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
	p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
	p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
	n=$(awk '/requests in/ {print $1}' "$work/$name.txt")
	if [ $# -gt 0 ] && [ "$n" -gt 0 ]; then
		cpu="$(( ($(ticks "$@") - t0) * 1000000 / $(getconf CLK_TCK) / n )) µs"
	fi
	echo "| $name | $rps | $p50 | $p99 | $cpu |"
}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F)"
echo
echo "| target | requests/s | p50 | p99 | proxy CPU/req |"
echo "|---|---|---|---|---|"
run "backend direct" 18080
# shellcheck disable=SC2046 # one pid per word
run "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')" 18082 $(pgrep -P "$(cat "$work/nginx.pid")")
run "pyship proxy" 18081 "$proxypid"
