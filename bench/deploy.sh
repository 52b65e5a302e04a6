#!/usr/bin/env bash
# bench/deploy.sh: deploy latency of the local target, from `pyship deploy` to 100% of traffic
# on the new release, minus the app's own start time (python app.py until /healthz answers).
#   RUNS=5 STRATEGY=blue-green bench/deploy.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-5} STRATEGY=${STRATEGY:-blue-green}
scripts/services start bench >/dev/null # curl and bc
work=$(mktemp -d)
export PYSHIP_HOME=$work/home
cleanup() {
	[ -f "$PYSHIP_HOME/agent.pid" ] && { "$work/pyship" stop >/dev/null 2>&1 || true; kill "$(cat "$PYSHIP_HOME/agent.pid")" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/pyship" ./cmd/pyship
py=$(command -v python3)
app=internal/local/testdata/stdlib/app.py
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
now() { date +%s.%N; }
# The app's own start time: launch to first healthy answer, polled every 10 ms.
starts=()
for _ in $(seq "$RUNS"); do
	p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	t0=$(now)
	PORT=$p "$py" "$app" >/dev/null 2>&1 &
	pid=$!
	until curl -fs -o /dev/null "http://127.0.0.1:$p/healthz"; do sleep 0.01; done
	starts+=("$(echo "$(now) - $t0" | bc)")
	kill $pid
done
plan() { # version
	mkdir -p "$work/src-$1"
	cp "$app" "$work/src-$1/app.py"
	cat >"$work/plan-$1.json" <<JSON
{"schemaVersion":1,"dir":"$work/src-$1","name":"benchapp","version":"$1","dependencies":{"kind":"none"},
 "run":{"command":["python","app.py"],"kind":"web","port":$port,"workers":1},
 "health":{"type":"http","path":"/healthz","interval":"1s","timeout":"1s","startupTimeout":"30s"},
 "deploy":{"target":"local","strategy":"$STRATEGY","replicas":1,"drainTimeout":"5s","rollbackWindow":"1s"}}
JSON
}
plan v0
"$work/pyship" deploy --plan "$work/plan-v0.json" --python "$py" --admin-addr 127.0.0.1:0 >/dev/null 2>&1
deploys=()
for i in $(seq "$RUNS"); do
	plan "v$i"
	t0=$(now)
	"$work/pyship" deploy --plan "$work/plan-v$i.json" --python "$py" >/dev/null 2>"$work/deploy.log"
	deploys+=("$(echo "$(now) - $t0" | bc)")
	body=$(curl -fs "http://127.0.0.1:$port/")
	[ "$body" = "stdlib v$i" ] || { echo "bench: after deploy $i the app answers '$body'" >&2; exit 1; }
	sleep 1.2 # let the warm set retire so each deploy starts from one release
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${starts[@]}") md=$(median "${deploys[@]}")
printf '| strategy | app start (median) | deploy to 100%% (median) | deploy minus app start |\n|---|---|---|---|\n'
printf '| %s | %.0f ms | %.0f ms | %.0f ms |\n' "$STRATEGY" "$(echo "$ms*1000" | bc)" "$(echo "$md*1000" | bc)" "$(echo "($md-$ms)*1000" | bc)"
