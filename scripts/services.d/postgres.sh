# postgres: Debian's PostgreSQL on 127.0.0.1:15432, run as the postgres user (it refuses root)
# with its data folder under $SVC_DIR; password authentication for user postgres.
PG_PORT=15432
PG_PASSWORD=pyshiptest

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

svc_start() {
	apt_install postgresql postgresql-client
	local bin
	bin=$(pg_bindir)
	[ -n "$bin" ] || { echo "services: no PostgreSQL server under /usr/lib/postgresql" >&2; return 1; }
	chown postgres:postgres "$SVC_DIR"
	chmod 755 "$(dirname "$SVC_DIR")"
	if [ ! -f "$SVC_DIR/pgdata/PG_VERSION" ]; then
		rm -rf "$SVC_DIR/pgdata"
		echo "$PG_PASSWORD" >"$SVC_DIR/pwfile"
		chown postgres:postgres "$SVC_DIR/pwfile"
		runuser -u postgres -- "$bin/initdb" -D "$SVC_DIR/pgdata" -U postgres --auth=scram-sha-256 \
			--pwfile="$SVC_DIR/pwfile" -E UTF8 >&2
		rm -f "$SVC_DIR/pwfile"
	fi
	if ! svc_status; then
		mkdir -p "$SVC_DIR/sock" && chown postgres:postgres "$SVC_DIR/sock"
		runuser -u postgres -- "$bin/pg_ctl" -D "$SVC_DIR/pgdata" -l "$SVC_DIR/log" -w -t 60 \
			-o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $SVC_DIR/sock" start 9>&- >&2
	fi
	echo "export PYSHIP_TEST_PG_DSN='postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres?sslmode=disable'"
	echo "export PYSHIP_TEST_PG_HOST=127.0.0.1"
	echo "export PYSHIP_TEST_PG_PORT=$PG_PORT"
	echo "export PYSHIP_TEST_PG_USER=postgres"
	echo "export PYSHIP_TEST_PG_PASSWORD=$PG_PASSWORD"
}
svc_stop() {
	svc_status || return 0
	runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$SVC_DIR/pgdata" -m fast -w stop >&2
}
svc_status() {
	[ -f "$SVC_DIR/pgdata/postmaster.pid" ] && runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$SVC_DIR/pgdata" status >/dev/null 2>&1
}
