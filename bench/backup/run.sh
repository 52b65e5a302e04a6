#!/usr/bin/env bash
# bench/backup/run.sh [SIZE_BYTES]: backup and restore throughput and peak RSS of
# `pyship backup now|restore` against `tar | zstd | age | aws s3 cp -` (and back), side by side
# in one run, to the s3 test service on loopback. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
size=${1:-1073741824}
work=${BENCH_DIR:-/tmp/pyship-bench}
eval "$(scripts/services start s3)"
command -v age >/dev/null && command -v zstd >/dev/null && command -v aws >/dev/null || {
	echo "bench: needs age, zstd (apt-get install age zstd) and the AWS CLI" >&2; exit 1; }
mkdir -p "$work"
go build -o "$work/pyship" ./cmd/pyship
if [ ! -f "$work/tree.done" ] || [ "$(cat "$work/tree.done")" != "$size" ]; then
	rm -rf "$work/tree" && go run ./bench/backup/gentree -size "$size" "$work/tree" && echo "$size" >"$work/tree.done"
fi
rm -f "$work/key" "$work/signing" && "$work/pyship" backup keygen --identity-file "$work/key" >"$work/recipient"
recipient=$(cat "$work/recipient")
# Every backup is signed, and only backups signed by a pinned key are restored.
"$work/pyship" backup keygen --signing-key-file "$work/signing" >"$work/signing.pub"
export PYSHIP_BACKUP_SIGNING_KEY_FILE="$work/signing" PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS="$(cat "$work/signing.pub")"
export AWS_ACCESS_KEY_ID=$PYSHIP_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$PYSHIP_TEST_S3_SECRET_KEY
export AWS_ENDPOINT_URL=$PYSHIP_TEST_S3_ENDPOINT AWS_DEFAULT_REGION=us-east-1
run=$(date +%s)
dest="s3://$PYSHIP_TEST_S3_BUCKET/bench-$run"
bytes=$(du -sb "$work/tree" | cut -f1)

# measure NAME CMD: wall seconds and peak RSS (largest process) in MB.
# Private memory (RssAnon) is sampled too: peak RSS also counts the pages of a program's own
# executable it has touched (about 40 MB of pyship's 100 MB binary), which are shared and clean.
measure() {
	local name=$1
	shift
	sync
	/usr/bin/time -f "%e %M" -o "$work/time.$name" bash -c "$*" >/dev/null &
	local tp=$! anon=0 pid a
	while kill -0 "$tp" 2>/dev/null; do
		for pid in $(pgrep -x 'pyship|tar|zstd|age|aws'); do
			a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
			[ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
		done
		sleep 0.05
	done
	wait "$tp"
	read -r secs kb <"$work/time.$name"
	echo "$name $secs $((kb / 1024)) $((anon / 1024))"
}
clean() { rm -rf "$work/out-pyship" "$work/out-pipe"; mkdir -p "$work/out-pipe"; sync; }

clean
p_b=$(measure pyship-backup "'$work/pyship' backup now --dest $dest/pyship --recipient $recipient --source data='$work/tree' 2>/dev/null")
q_b=$(measure pipe-backup "tar -cf - -C '$work/tree' . | zstd -q -3 | age -r $recipient | aws s3 cp --only-show-errors - $dest/pipe/data.tar.zst.age")
p_r=$(measure pyship-restore "'$work/pyship' backup restore --dest $dest/pyship --identity-file '$work/key' --to '$work/out-pyship' 2>/dev/null")
q_b1=$(measure pipe1-backup "tar -cf - -C '$work/tree' . | zstd -q -1 | age -r $recipient | aws s3 cp --only-show-errors - $dest/pipe1/data.tar.zst.age")
q_r=$(measure pipe-restore "aws s3 cp --only-show-errors $dest/pipe/data.tar.zst.age - | age -d -i '$work/key' | zstd -q -d | tar -xf - -C '$work/out-pipe'")
diff -r --no-dereference "$work/tree" "$work/out-pyship" >/dev/null || { echo "bench: pyship's restore differs from the tree" >&2; exit 1; }

row() { # label pyship pipe
	read -r _ ps pm pa <<<"$2"
	read -r _ qs qm qa <<<"$3"
	awk -v l="$1" -v b="$bytes" -v ps="$ps" -v pm="$pm" -v pa="$pa" -v qs="$qs" -v qm="$qm" -v qa="$qa" 'BEGIN {
		printf "| %s | %.0f MB/s | %d MB (%d MB private) | %.0f MB/s | %d MB (%d MB private) | %.2f× |\n", l, b/ps/1e6, pm, pa, b/qs/1e6, qm, qa, qs/ps }'
}
size_of() { aws s3 ls --recursive "$1" | awk '{s+=$3} END {print int(s/1e6)}'; }
echo "stored: pyship $(size_of $dest/pyship/) MB, pipe zstd -3 $(size_of $dest/pipe/) MB, pipe zstd -1 $(size_of $dest/pipe1/) MB"
echo "tree: $(find "$work/tree" -type f | wc -l) files, $((bytes / 1000000)) MB; $(nproc) cores"
echo "| | pyship | pyship peak RSS | tar·zstd·age·aws | pipe peak RSS (largest process) | pyship / pipe throughput |"
echo "|---|---|---|---|---|---|"
row "backup (pipe: zstd -3, its default)" "$p_b" "$q_b"
row "backup (pipe: zstd -1)" "$p_b" "$q_b1"
row restore "$p_r" "$q_r"
