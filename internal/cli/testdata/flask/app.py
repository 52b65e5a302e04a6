import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    with open(os.path.join(os.path.dirname(__file__), "config", "greeting.txt")) as f:
        return f.read().strip() + " from flask\n"
