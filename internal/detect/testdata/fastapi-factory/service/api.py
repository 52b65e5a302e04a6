from fastapi import FastAPI


def make_app() -> FastAPI:
    api = FastAPI()
    return api
