import os

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index():
    return f"fastapi {os.environ.get('PYSHIP_VERSION', 'dev')}\n"


@app.get("/healthz", response_class=PlainTextResponse)
def healthz():
    return "ok\n"
