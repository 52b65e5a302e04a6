"""A web service built on the standard library only.

GET /              -> JSON with the app name, PYSHIP_VERSION and the visit count
GET /healthz       -> "ok"
GET /images/NAME   -> a file from data/images/

Configuration is read from config/config.ini; visits are counted in data/visits.txt so that a
restart (or a new release) shows whether the data folder persisted.
"""
import configparser
import fcntl
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
IMAGES_DIR = os.path.join(DATA_DIR, "images")
VISITS_FILE = os.path.join(DATA_DIR, "visits.txt")

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}


def load_config():
    config = configparser.ConfigParser()
    config.read(os.path.join(HERE, "config", "config.ini"))
    return {
        "name": config.get("app", "name", fallback="stdlib-example"),
        "greeting": config.get("app", "greeting", fallback="hello"),
    }


class Visits:
    """A visit counter kept in a file, shared by every replica of the app."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def increment(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # Replicas are separate processes sharing the data folder: lock across processes too.
        with self.lock, open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path) as f:
                    count = int(f.read().strip() or 0)
            except (OSError, ValueError):
                count = 0
            count += 1
            tmp = "%s.%d.tmp" % (self.path, os.getpid())
            with open(tmp, "w") as f:
                f.write("%d\n" % count)
            os.replace(tmp, self.path)
            return count


class Handler(BaseHTTPRequestHandler):
    config = load_config()
    visits = Visits(VISITS_FILE)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self.send(200, "text/plain; charset=utf-8", b"ok")
        elif path == "/":
            body = {
                "app": self.config["name"],
                "message": self.config["greeting"],
                "version": os.environ.get("PYSHIP_VERSION", "dev"),
                "visits": self.visits.increment(),
            }
            self.send(200, "application/json", json.dumps(body).encode() + b"\n")
        elif path.startswith("/images/"):
            self.send_image(path[len("/images/"):])
        else:
            self.send(404, "text/plain; charset=utf-8", b"not found\n")

    def send_image(self, name):
        if not name or name != os.path.basename(name) or name.startswith("."):
            self.send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        try:
            with open(os.path.join(IMAGES_DIR, name), "rb") as f:
                data = f.read()
        except OSError:
            self.send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        ext = os.path.splitext(name)[1].lower()
        self.send(200, CONTENT_TYPES.get(ext, "application/octet-stream"), data)

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def main():
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must run in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("%s listening on 0.0.0.0:%d" % (Handler.config["name"], port), flush=True)
    server.serve_forever()
    server.server_close()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
