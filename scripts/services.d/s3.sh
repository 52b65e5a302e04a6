# s3: versitygw (S3-compatible gateway over a posix folder), built from the Go module proxy at a
# pinned version and cached under $PYSHIP_CACHE; listens on 127.0.0.1:7070 with a bucket "pyship-test".
VGW_VERSION=v1.8.0
VGW_ADDR=127.0.0.1:7070
VGW_ACCESS=pyshiptest
VGW_SECRET=pyshiptest-secret-key
VGW_BUCKET=pyship-test

vgw_bin() { echo "$PYSHIP_CACHE/versitygw-$VGW_VERSION/versitygw"; }

vgw_install() {
	local bin
	bin=$(vgw_bin)
	[ -x "$bin" ] && return 0
	echo "services: building versitygw $VGW_VERSION from the Go module proxy (about 70 s)" >&2
	local tmp="$PYSHIP_CACHE/versitygw-$VGW_VERSION.tmp.$$"
	mkdir -p "$tmp"
	(cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION") >&2
	mkdir -p "$(dirname "$bin")"
	mv "$tmp/versitygw" "$bin.tmp.$$" && mv "$bin.tmp.$$" "$bin"
	rm -rf "$tmp"
}

svc_start() {
	vgw_install
	mkdir -p "$SVC_DIR/data/$VGW_BUCKET"
	if ! pid_alive "$SVC_DIR/pid"; then
		ROOT_ACCESS_KEY=$VGW_ACCESS ROOT_SECRET_KEY=$VGW_SECRET \
			setsid "$(vgw_bin)" --port "$VGW_ADDR" posix "$SVC_DIR/data" \
			>>"$SVC_DIR/log" 2>&1 </dev/null 9>&- &
		echo $! >"$SVC_DIR/pid"
		wait_http "http://$VGW_ADDR/" 30
	fi
	echo "export PYSHIP_TEST_S3_ENDPOINT=http://$VGW_ADDR"
	echo "export PYSHIP_TEST_S3_ACCESS_KEY=$VGW_ACCESS"
	echo "export PYSHIP_TEST_S3_SECRET_KEY=$VGW_SECRET"
	echo "export PYSHIP_TEST_S3_BUCKET=$VGW_BUCKET"
	echo "export PYSHIP_TEST_S3_REGION=us-east-1"
	echo "export PYSHIP_TEST_S3_DATA=$SVC_DIR/data"
	echo "export PYSHIP_TEST_S3_PIDFILE=$SVC_DIR/pid"
	echo "export PYSHIP_TEST_S3_BIN=$(vgw_bin)"
}
svc_stop() { stop_pidfile "$SVC_DIR/pid"; }
svc_status() { pid_alive "$SVC_DIR/pid"; }
