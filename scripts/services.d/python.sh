# python: a host Python 3 with venv support and the test wheelhouse (../shared/wheelhouse).
# Not a server; start makes sure the interpreter exists and prints where things are.
svc_start() {
	local py
	py=$(command -v python3 || true)
	if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
		apt_install python3 python3-venv
		py=/usr/bin/python3
	fi
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	echo "export PYSHIP_TEST_PYTHON=$py"
	if [ -d "$root/../shared/wheelhouse" ]; then
		echo "export PYSHIP_TEST_WHEELHOUSE=$(cd "$root/../shared/wheelhouse" && pwd)"
	fi
}
svc_stop() { :; }
svc_status() { command -v python3 >/dev/null; }
