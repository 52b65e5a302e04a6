"""A stdlib test app: GET / answers its name and version, /healthz its health.

Its behaviour comes from mode.txt beside it (or $APP_MODE): ok, crash, wrongport, unhealthy
(health 500), error500 (every request 500), slowstart (listens after
$delay.txt seconds), spawn (starts a child process that must not
outlive it), lock (holds an exclusive lock on $LOCK_FILE while it runs, as a
single-writer database does, and exits 4 when another process holds it).
"""
import http.server
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name, default):
    try:
        with open(os.path.join(HERE, name)) as f:
            return f.read().strip()
    except OSError:
        return default


MODE = os.environ.get("APP_MODE") or read("mode.txt", "ok")
VERSION = os.environ.get("PYSHIP_VERSION", "dev")
NAME = "stdlib"

if MODE == "crash":
    print("boom: DATABASE_URL is not set", file=sys.stderr, flush=True)
    sys.exit(3)
if MODE == "slowstart":
    time.sleep(float(read("delay.txt", "3")))
if MODE == "lock":
    import fcntl

    LOCK = open(os.environ["LOCK_FILE"], "a")
    try:
        fcntl.flock(LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("the data lock is held by another process", file=sys.stderr, flush=True)
        sys.exit(4)
if MODE == "spawn":
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status, body = 200, f"{NAME} {VERSION}\n"
        if self.path == "/healthz":
            status, body = (500, "sick\n") if MODE == "unhealthy" else (200, "ok\n")
        elif self.path == "/env":
            body = "".join(f"{k}={os.environ.get(k, '')}\n" for k in ("GREETING", "SECRET_TOKEN", "PYSHIP_DATA_DIR"))
        elif self.path.startswith("/data"):
            d = os.path.join(HERE, "data")
            os.makedirs(d, exist_ok=True)
            p = os.path.join(d, "visits")
            n = int(open(p).read()) + 1 if os.path.exists(p) else 1
            open(p, "w").write(str(n))
            body = f"{n}\n"
        elif self.path == "/sleep":
            time.sleep(1)
        elif self.path == "/config":
            body = read("config/settings.txt", "none") + "\n"
        elif MODE == "error500":
            status = 500
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


port = 0 if MODE == "wrongport" else int(os.environ["PORT"])
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
print(f"{NAME} {VERSION} listening on {server.server_address[1]}", flush=True)
if os.environ.get("PRINT_SECRET"):
    print(f"careless log line: token={os.environ.get('SECRET_TOKEN')}", flush=True)
server.serve_forever()
