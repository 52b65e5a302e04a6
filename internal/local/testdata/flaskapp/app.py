import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return f"flask {os.environ.get('PYSHIP_VERSION', 'dev')}\n"


@app.get("/healthz")
def healthz():
    return "ok\n"
