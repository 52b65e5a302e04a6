"""The FastAPI app.

GET /         -> JSON with the app name and PYSHIP_VERSION
GET /healthz  -> "ok"

Run it with `uvicorn --app-dir src fastapi_app.main:app` or `python -m fastapi_app.main`.
"""
import os

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from fastapi_app import __version__

APP_NAME = "fastapi-example"

app = FastAPI(title=APP_NAME, version=__version__)


@app.get("/")
def index():
    return {
        "app": APP_NAME,
        "package_version": __version__,
        "version": os.environ.get("PYSHIP_VERSION", "dev"),
    }


@app.get("/healthz", response_class=PlainTextResponse)
def healthz():
    return "ok"


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
