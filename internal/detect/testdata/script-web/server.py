import os

from aiohttp import web

app = web.Application()
web.run_app(app, port=int(os.getenv("PORT", "8080")))
