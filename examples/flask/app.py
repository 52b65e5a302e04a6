"""A Flask web service.

GET /         -> JSON with the app name and PYSHIP_VERSION
GET /healthz  -> "ok"

Run it with gunicorn (`gunicorn app:app`); `python app.py` starts Flask's development server.
"""
import os

from flask import Flask, jsonify

app = Flask(__name__)
app.config.from_pyfile(os.path.join("config", "settings.py"))


@app.get("/")
def index():
    return jsonify(
        app=app.config["APP_NAME"],
        message=app.config["GREETING"],
        version=os.environ.get("PYSHIP_VERSION", "dev"),
    )


@app.get("/healthz")
def healthz():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
