# Helpers shared by the service definitions in this folder (sourced, not run).

# apt_install PKG...: install Debian packages that are missing (apt-get update once per day).
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "services: installing ${missing[*]}" >&2
	local stamp=/var/lib/apt/periodic/pyship-update-stamp
	if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		mkdir -p "$(dirname "$stamp")" && touch "$stamp"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# pid_alive PIDFILE: the process in PIDFILE is running.
pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# wait_http URL SECONDS: poll URL until it answers (any HTTP status) or the deadline passes.
wait_http() {
	local url=$1 deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		curl -ks -o /dev/null "$url" && return 0
		sleep 0.1
	done
	echo "services: $url did not answer within $2 s" >&2
	return 1
}

# stop_pidfile PIDFILE: TERM then KILL the process in PIDFILE.
stop_pidfile() {
	local f=$1
	pid_alive "$f" || { rm -f "$f"; return 0; }
	local pid
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$f"
}
