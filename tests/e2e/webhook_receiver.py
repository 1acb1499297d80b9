"""A webhook receiver for the forwarding tests, run as its own process (`python -m
tests.e2e.webhook_receiver PORT SECRET DIR`): it verifies the HMAC signature as
docs/forwarding.md tells a receiver to, dedupes by item id into an SQLite file, and can be
told to answer 500, to hang, or to be slow (POST /mode {"mode": ...})."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
import sys
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_SKEW_SECONDS = 300


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """docs/forwarding.md: HMAC-SHA256 of `timestamp.body`, compared in constant time, and a
    timestamp close to now (so an old request cannot be replayed)."""
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= MAX_SKEW_SECONDS
    return fresh and hmac.compare_digest(expected, signature)


def build(secret: bytes, directory: Path) -> Starlette:
    """The receiver's app: its store is `directory/received.db`, its mode `directory/mode`."""
    db = sqlite3.connect(directory / "received.db", isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, item TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS deliveries (at REAL, ids TEXT)")
    mode_file = directory / "mode"

    async def hook(request: Request) -> Response:
        body = await request.body()
        if not verify(secret, request.headers.get("x-tally-timestamp", ""), body,
                      request.headers.get("x-tally-signature", "")):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        mode = mode_file.read_text() if mode_file.exists() else "ok"
        if mode == "fail":
            return JSONResponse({"error": "told to fail"}, status_code=500)
        if mode == "hang":
            await asyncio.sleep(3600)
        items = json.loads(body)["items"]
        # Stored (deduped by id) before answering, as a receiver that then dies would.
        db.execute("INSERT INTO deliveries VALUES (?, ?)",
                   (time.time(), json.dumps([i["id"] for i in items])))
        db.executemany("INSERT OR IGNORE INTO items VALUES (?, ?)",
                       [(i["id"], json.dumps(i)) for i in items])
        if mode == "slow":
            await asyncio.sleep(2)
        return Response(status_code=204)

    async def set_mode(request: Request) -> Response:
        mode_file.write_text((await request.json())["mode"])
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"]),
                             Route("/mode", set_mode, methods=["POST"])])


if __name__ == "__main__":
    port, key, where = int(sys.argv[1]), sys.argv[2].encode(), Path(sys.argv[3])
    uvicorn.run(build(key, where), host="127.0.0.1", port=port, log_level="warning")
