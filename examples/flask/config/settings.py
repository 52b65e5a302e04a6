"""Flask settings, loaded with app.config.from_pyfile (upper-case names only)."""
import os

APP_NAME = "flask-example"
GREETING = os.environ.get("GREETING", "hello from Flask")
JSON_SORT_KEYS = False
