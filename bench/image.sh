#!/usr/bin/env bash
# bench/image.sh: pyship build against podman build and pip, side by side, same app (testdata
# flask + gunicorn), same registry (scripts/services start registry), same machine.
#   1. warm rebuild + push after a one-file change: pyship vs podman build (warm cache) + push
#   2. cold build (+ push) vs `pip install --target` of the same requirements alone
#   3. a no-op build + push
# Prints a Markdown table on stdout; progress on stderr. RUNS=N repeats each timing (median).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-3}
tmp=$(mktemp -d /tmp/pyship-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
log() { echo "bench: $*" >&2; }

eval "$("$root/scripts/services" start pybase)"
eval "$("$root/scripts/services" start python)"
eval "$("$root/scripts/services" start registry)"
eval "$("$root/scripts/services" start podman)"
read -r -a podman <<<"$PYSHIP_TEST_PODMAN"
export PIP_NO_INDEX=1 PIP_FIND_LINKS=$PYSHIP_TEST_WHEELHOUSE SOURCE_DATE_EPOCH=1700000000
reg=$PYSHIP_TEST_REGISTRY
py=$PYSHIP_TEST_PYTHON

log "building pyship"
(cd "$root" && go build -o "$tmp/pyship" ./cmd/pyship)
cp -r "$root/internal/image/testdata/flask" "$tmp/app"
rm -f "$tmp/app/.env"
cat >"$tmp/plan.json" <<JSON
{"schemaVersion":1,"dir":"$tmp/app","name":"bench-flask","version":"1.0.0","python":{"version":"3.11"},
 "dependencies":{"kind":"requirements","requirements":[{"name":"flask","spec":"flask==2.2.2"},{"name":"gunicorn","spec":"gunicorn==20.1.0"}]},
 "run":{"command":["gunicorn","--bind","0.0.0.0:\${PORT}","app:app"],"kind":"web","port":8000},
 "data":[{"path":"data","persistent":true}],"env":{}}
JSON

# now_ms; elapsed START: milliseconds since START.
now_ms() { date +%s%3N; }
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timed CMD...: run CMD quietly, print its wall time in ms.
timed() {
	local s; s=$(now_ms)
	"$@" >"$tmp/last.out" 2>"$tmp/last.err" || { cat "$tmp/last.err" >&2; return 1; }
	echo $(($(now_ms) - s))
}
change() { echo "# change $RANDOM$RANDOM" >>"$tmp/app/app.py"; }

export PYSHIP_CACHE=$tmp/cache
pybuild() { "$tmp/pyship" build --plan "$tmp/plan.json" --base "$PYSHIP_TEST_BASE" --python "$py" --registry "$reg/bench" "$@"; }

log "warming: base into the registry, first pyship build"
pybuild >/dev/null 2>&1

# 2. cold: pip alone vs pyship with an empty layer cache (the base already inspected and pushed).
platforms=()
for n in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64)
pip_times=() cold_times=() fullcold_times=()
for i in $(seq "$runs"); do
	rm -rf "$tmp/pip"
	pip_times+=("$(timed "$py" -m pip install --quiet --disable-pip-version-check --target "$tmp/pip" --only-binary=:all: \
		"${platforms[@]}" --python-version 3.11 --implementation cp flask==2.2.2 gunicorn==20.1.0)")
	rm -rf "$PYSHIP_CACHE/image/layers"
	change
	cold_times+=("$(timed pybuild)")
	rm -rf "$PYSHIP_CACHE"
	change
	fullcold_times+=("$(timed pybuild)")
done
pip_ms=$(printf '%s\n' "${pip_times[@]}" | median)
cold_ms=$(printf '%s\n' "${cold_times[@]}" | median)
fullcold_ms=$(printf '%s\n' "${fullcold_times[@]}" | median)
log "pip ${pip_times[*]} ms; pyship cold ${cold_times[*]} ms; pyship empty cache ${fullcold_times[*]} ms"

# 1. warm rebuild + push after a one-file change.
warm_times=()
for i in $(seq "$runs"); do
	change
	warm_times+=("$(timed pybuild)")
done
warm_ms=$(printf '%s\n' "${warm_times[@]}" | median)
log "pyship warm ${warm_times[*]} ms"

# 3. no-op build + push (the push only sends HEAD requests: asserted by
# TestPushAfterOneFileChangeUploadsOnlyTheAppLayer).
noop_times=()
for i in $(seq "$runs"); do noop_times+=("$(timed pybuild)"); done
noop_ms=$(printf '%s\n' "${noop_times[@]}" | median)

log "podman: base into the registry, warm-up build"
"$tmp/pyship" dockerfile --plan "$tmp/plan.json" >"$tmp/app/Dockerfile"
base_ref=$reg/bench/pybase:1
go run "$root/hack/pushbase" "$PYSHIP_TEST_BASE" "$base_ref" >&2
pmbuild() {
	"${podman[@]}" build -q --network host --tls-verify=false -v "$PYSHIP_TEST_WHEELHOUSE:/wheels:ro" \
		--build-arg "BASE=$base_ref" --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheels \
		-t "$reg/bench/podman-flask:1" "$tmp/app" &&
		"${podman[@]}" push -q --tls-verify=false "$reg/bench/podman-flask:1"
}
pmbuild >/dev/null 2>&1 || pmbuild
podman_times=()
for i in $(seq "$runs"); do
	change
	podman_times+=("$(timed pmbuild)")
done
podman_ms=$(printf '%s\n' "${podman_times[@]}" | median)
log "podman warm ${podman_times[*]} ms"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cat <<MD
| measurement (flask + gunicorn, median of $runs) | time | ratio | goal |
|---|---|---|---|
| warm rebuild + push after a one-file change: pyship | ${warm_ms} ms | | |
| same with \`podman build\` of \`pyship dockerfile\` (warm cache) + \`podman push\` | ${podman_ms} ms | pyship $(ratio "$podman_ms" "$warm_ms")× faster | ≥ 10× |
| cold build + push: pyship, empty layer cache (base known) | ${cold_ms} ms | $(ratio "$cold_ms" "$pip_ms")× pip | ≤ 1.15× |
| cold build + push: pyship, empty \$PYSHIP_CACHE (base inspected too) | ${fullcold_ms} ms | $(ratio "$fullcold_ms" "$pip_ms")× pip | |
| \`pip install --target\` of the same requirements alone | ${pip_ms} ms | 1 | |
| no-op build + push (HEAD requests only) | ${noop_ms} ms | | |
MD
