import os

from flask import Flask

# app = Flask("commented out")
app = Flask(__name__)
PORT = int(os.environ.get("PORT", "8000"))


@app.route("/")
def index():
    return "hello, 'app = Flask(' in a string is not an app"


@app.get("/healthz")
def healthz():
    return "ok"
