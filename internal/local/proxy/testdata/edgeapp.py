"""The app behind the proxy in the edge tests, served by http.server, gunicorn or uvicorn.

Every request's method and path is appended to the file $EDGE_LOG, so a test can tell
whether a smuggled request reached the app. /ignore never reads the request body (the way in
for pool poisoning), /sleep answers after 3 s, /big streams 32 MiB, anything else answers
"METHOD PATH BODYLENGTH host=HOST".
"""
import asyncio
import os
import sys
import time

BIG = 512  # chunks of 64 KiB


def log(method, path):
    with open(os.environ["EDGE_LOG"], "a") as f:
        f.write(f"{method} {path}\n")


def text(method, path, body, host):
    return f"{method} {path} {len(body)} host={host}".encode()


def wsgi(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    log(method, path)
    body = b"" if path == "/ignore" else environ["wsgi.input"].read()
    if path == "/sleep":
        time.sleep(3)
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return iter([b"x" * 65536] * BIG)
    out = text(method, path, body, environ.get("HTTP_HOST"))
    start_response("200 OK", [("Content-Length", str(len(out)))])
    return [out]


async def asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    method, path = scope["method"], scope["path"]
    log(method, path)
    body = b""
    if path != "/ignore":
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
    if path == "/sleep":
        await asyncio.sleep(3)
    if path == "/big":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(BIG):
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    host = dict(scope["headers"]).get(b"host", b"").decode()
    out = text(method, path, body, host)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


def stdlib(port):
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and no draining of unread bodies

        def answer(self):
            path = self.path
            log(self.command, path)
            n = int(self.headers.get("Content-Length") or 0)
            body = b"" if path == "/ignore" else self.rfile.read(n)
            if path == "/sleep":
                time.sleep(3)
            if path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(65536 * BIG))
                self.end_headers()
                for _ in range(BIG):
                    self.wfile.write(b"x" * 65536)
                return
            out = text(self.command, path, body, self.headers.get("Host"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


if __name__ == "__main__":
    stdlib(int(sys.argv[1]))
