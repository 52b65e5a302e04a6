from flask import Flask


def create_app(config=None):
    app = Flask(__name__)

    @app.route("/ready")
    def ready():
        return "ok"

    return app
