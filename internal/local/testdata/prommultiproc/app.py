"""A WSGI app that counts its requests with prometheus_client and serves the counts of every
gunicorn worker on /metrics, as prometheus_client's documentation asks (a registry with a
MultiProcessCollector, which fails when PROMETHEUS_MULTIPROC_DIR is not set). GET / answers the
worker's pid."""
import os
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest, multiprocess

HITS = Counter("demo_hits", "Requests served")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/metrics":
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(registry)]
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    HITS.inc()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
