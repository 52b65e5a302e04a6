# prometheus: Debian's Prometheus 2.42 (with promtool) and Alertmanager 0.25 on loopback, for the
# monitoring tests. The shared Prometheus scrapes every 1 s whatever targets a test drops as a
# file_sd JSON file into $PYSHIP_TEST_PROMETHEUS_SD (picked up within a second, no reload) and
# sends alerts to the shared Alertmanager. A test that needs its own rules, scrape configuration
# or receiver runs a private process from PYSHIP_TEST_PROMETHEUS_BIN / PYSHIP_TEST_ALERTMANAGER_BIN
# on a port of its own (testsvc.Port).
PROM_ADDR=127.0.0.1:19090
AM_ADDR=127.0.0.1:19093

svc_start() {
	apt_install prometheus prometheus-alertmanager curl
	# Debian's packages start system services on install; the tests want only their own.
	for unit in prometheus prometheus-alertmanager prometheus-node-exporter; do
		if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
			systemctl stop "$unit" >/dev/null 2>&1 || true
		fi
	done
	mkdir -p "$SVC_DIR/sd" "$SVC_DIR/prom-data" "$SVC_DIR/am-data"
	cat >"$SVC_DIR/alertmanager.yml" <<CFG
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
CFG
	cat >"$SVC_DIR/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["$AM_ADDR"]
scrape_configs:
  - job_name: pyship-tests
    file_sd_configs:
      - files: ["$SVC_DIR/sd/*.json"]
        refresh_interval: 1s
CFG
	if ! pid_alive "$SVC_DIR/am.pid"; then
		setsid prometheus-alertmanager --config.file="$SVC_DIR/alertmanager.yml" \
			--storage.path="$SVC_DIR/am-data" --web.listen-address="$AM_ADDR" \
			--cluster.listen-address= >>"$SVC_DIR/am.log" 2>&1 </dev/null 9>&- &
		echo $! >"$SVC_DIR/am.pid"
	fi
	if ! pid_alive "$SVC_DIR/prom.pid"; then
		setsid prometheus --config.file="$SVC_DIR/prometheus.yml" \
			--storage.tsdb.path="$SVC_DIR/prom-data" --web.listen-address="$PROM_ADDR" \
			--web.enable-lifecycle >>"$SVC_DIR/prom.log" 2>&1 </dev/null 9>&- &
		echo $! >"$SVC_DIR/prom.pid"
	fi
	wait_http "http://$AM_ADDR/-/ready" 30
	wait_http "http://$PROM_ADDR/-/ready" 30
	echo "export PYSHIP_TEST_PROMETHEUS=http://$PROM_ADDR"
	echo "export PYSHIP_TEST_PROMETHEUS_SD=$SVC_DIR/sd"
	echo "export PYSHIP_TEST_ALERTMANAGER=http://$AM_ADDR"
	echo "export PYSHIP_TEST_PROMETHEUS_BIN=$(command -v prometheus)"
	echo "export PYSHIP_TEST_ALERTMANAGER_BIN=$(command -v prometheus-alertmanager)"
	echo "export PYSHIP_TEST_PROMTOOL=$(command -v promtool)"
}
svc_stop() {
	stop_pidfile "$SVC_DIR/prom.pid"
	stop_pidfile "$SVC_DIR/am.pid"
}
svc_status() { pid_alive "$SVC_DIR/prom.pid" && pid_alive "$SVC_DIR/am.pid"; }
