from fastapi import FastAPI

app: object
app = FastAPI(title="my service")


@app.get("/livez")
async def livez():
    return {"ok": True}


@app.get("/health")
async def health():
    return {"ok": True}
