#!/usr/bin/env bash
# bench/sidecar.sh: what `pyship agent sidecar` (the proxy sidecar of the Kubernetes pods) adds
# per request to a real Python app: wrk against a Flask app under gunicorn directly, then through
# the sidecar on loopback (as in the pod: the sidecar in front of 127.0.0.1:APP_PORT), alternating,
# ROUNDS times, in the same run. "CPU/req" is each side's own CPU time (user + system, from /proc)
# over the run divided by the requests served: the app's (gunicorn's master and workers) in both
# rows, the sidecar's in the second. The last lines give the sidecar's cost as ratios.
# GUNICORN_THREADS=N runs gunicorn's gthread workers, which keep connections alive (the default
# sync workers close each one, so the sidecar dials the app for every request).
#   DURATION=10s CONNECTIONS=16 THREADS=2 WORKERS=2 ROUNDS=2 GUNICORN_THREADS=1 bench/sidecar.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-16} THREADS=${THREADS:-2} WORKERS=${WORKERS:-2} ROUNDS=${ROUNDS:-2}
GUNICORN_THREADS=${GUNICORN_THREADS:-1}
eval "$(scripts/services start python)"         # the Python and wheelhouse of the tests
scripts/services start bench >/dev/null          # installs wrk from Debian when missing
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
CGO_ENABLED=0 go build -trimpath -o "$work/pyship" ./cmd/pyship # as the tests build it: the same build cache
"$PYSHIP_TEST_PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-index --find-links "$PYSHIP_TEST_WHEELHOUSE" flask gunicorn
cat >"$work/app.py" <<'PY'
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(app="bench", message="hello", items=list(range(10)))
PY
"$work/venv/bin/gunicorn" --chdir "$work" --workers "$WORKERS" --threads "$GUNICORN_THREADS" --bind 127.0.0.1:18090 --log-level warning app:app & pids+=($!)
apppid=$!
"$work/pyship" agent sidecar --listen 127.0.0.1:18091 --metrics-listen 127.0.0.1:18092 \
	--backend 127.0.0.1:18090 --app bench --release rbench --version v1 --strategy rolling 2>"$work/sidecar.log" & pids+=($!)
sidecarpid=$!
for port in 18090 18091; do
	for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done
ticks() { # the CPU clock ticks used so far by the processes given and their children
	local t=0 p
	for p in "$@" $(pgrep -P "$1" | tr '\n' ' '); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
us() { # microseconds from wrk's "1.23ms" / "456.00us" / "1.2s"
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}
declare -A sum
run() { # name url; prints a row and adds to the sums of name
	local name=$1 url=$2 a0 s0 n out rps p50 p99 appcpu sidecpu=—
	out="$work/out.txt"
	a0=$(ticks "$apppid")
	s0=$(ticks "$sidecarpid")
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$out"
	rps=$(awk '/Requests\/sec/ {print $2}' "$out")
	p50=$(awk '$1=="50%" {print $2}' "$out")
	p99=$(awk '$1=="99%" {print $2}' "$out")
	n=$(awk '/requests in/ {print $1}' "$out")
	if awk '/Non-2xx|Socket errors/ {found=1} END {exit !found}' "$out"; then
		echo "wrk saw errors for $name:" >&2
		cat "$out" >&2
		exit 1
	fi
	appcpu=$(( ($(ticks "$apppid") - a0) * 1000000 / $(getconf CLK_TCK) / n ))
	if [ "$name" = sidecar ]; then
		sidecpu=$(( ($(ticks "$sidecarpid") - s0) * 1000000 / $(getconf CLK_TCK) / n ))
		sum[sidecpu]=$(( ${sum[sidecpu]:-0} + sidecpu ))
		sidecpu="$sidecpu µs"
	fi
	sum[$name.p50]=$(awk -v a="${sum[$name.p50]:-0}" -v b="$(us "$p50")" 'BEGIN {print a + b}')
	sum[$name.p99]=$(awk -v a="${sum[$name.p99]:-0}" -v b="$(us "$p99")" 'BEGIN {print a + b}')
	sum[$name.app]=$(( ${sum[$name.app]:-0} + appcpu ))
	sum[$name.n]=$(( ${sum[$name.n]:-0} + n ))
	echo "| $name | $rps | $p50 | $p99 | $appcpu µs | $sidecpu |"
}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, gunicorn --workers $WORKERS --threads $GUNICORN_THREADS (Flask), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
echo
echo "| to the app | requests/s | p50 | p99 | app CPU/req | sidecar CPU/req |"
echo "|---|---|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
	run direct http://127.0.0.1:18090/
	run sidecar http://127.0.0.1:18091/
done
# The sidecar counted every request it passed on (a check that it measured what it served).
counted=$(curl -fs http://127.0.0.1:18092/metrics | awk '/^pyship_requests_total\{.*code="200"\}/ {print $2}')
echo
awk -v d50="${sum[direct.p50]}" -v s50="${sum[sidecar.p50]}" -v d99="${sum[direct.p99]}" -v s99="${sum[sidecar.p99]}" \
	-v dapp="${sum[direct.app]}" -v sapp="${sum[sidecar.app]}" -v side="${sum[sidecpu]}" -v r="$ROUNDS" \
	-v served="${sum[sidecar.n]}" -v counted="$counted" 'BEGIN {
	printf "over %d rounds: p50 %.0f µs direct, %.0f µs through the sidecar (+%.0f µs, x%.2f); p99 %.0f µs, %.0f µs (+%.0f µs, x%.2f)\n",
		r, d50 / r, s50 / r, (s50 - d50) / r, s50 / d50, d99 / r, s99 / r, (s99 - d99) / r, s99 / d99
	printf "sidecar CPU %.0f µs per request = %.0f%% of the app'\''s own %.0f µs per request\n", side / r, 100 * side / sapp, sapp / r
	printf "the sidecar counted %d responses 200 (wrk: %d through it, plus the start-up checks)\n", counted, served
}'
