"""End to end: SIGTERM under load loses no acknowledged statement (SQLite and MongoDB).

Clients post batches concurrently; the server is sent SIGTERM while they are in flight; it
must answer what it accepted, exit, and, restarted on the same store, return every statement
whose POST was answered 200.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from tests.conftest import METRICS_TOKEN
from tests.e2e.test_serve import LRS, free_port, run_lrs
from tests.factories import make_statement
from tests.lrs.test_metrics import sample

pytestmark = pytest.mark.e2e
CLIENTS = 12
BATCH = 5
HEADERS = {"X-Experience-API-Version": "2.0.0"}


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`lrs serve` on a free port, once it answers its readiness probe."""
    port = free_port()
    with log.open("a") as out:
        process = subprocess.Popen([*LRS, "serve", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health/ready").status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "lrs serve did not start"
        time.sleep(0.1)


async def post_until_refused(base: str, auth: tuple[str, str], acknowledged: list[str],
                             late: list[float]) -> None:
    """Post batches until the server stops answering; note the ids it acknowledged and
    when answers arrived (to show some were in flight at the signal)."""
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=30) as client:
        while True:
            batch = [make_statement() for _ in range(BATCH)]
            try:
                response = await client.post("/xapi/statements", json=batch)
            except httpx.TransportError:
                return  # refused or cut: not acknowledged, a client would retry
            if response.status_code != 200:
                return
            acknowledged.extend(s["id"] for s in batch)
            late.append(time.monotonic())


async def missing_from(base: str, auth: tuple[str, str], ids: list[str]) -> list[str]:
    """The ids that a GET by statementId does not find."""
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=30) as client:
        async def absent(one: str) -> bool:
            async with limit:
                response = await client.get("/xapi/statements", params={"statementId": one})
            return response.status_code != 200

        found = await asyncio.gather(*(absent(one) for one in ids))
    return [one for one, gone in zip(ids, found, strict=True) if gone]


async def test_sigterm_under_load_keeps_every_acknowledged_statement(
        settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "LRS_STORE": settings.store_url(),
           "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path)}
    created = json.loads(run_lrs("credentials", "create", "--name", "load", "--scopes", "all",
                                 "--retention", "full", "--json", env=env))
    auth = (created["key"], created["secret"])
    log = tmp_path / "serve.log"
    process, base = start(env, log)
    acknowledged: list[str] = []
    answered: list[float] = []
    try:
        clients = [asyncio.create_task(post_until_refused(base, auth, acknowledged, answered))
                   for _ in range(CLIENTS)]
        while len(acknowledged) < 40 * BATCH:  # under load, every client posting
            assert process.poll() is None, log.read_text()
            await asyncio.sleep(0.02)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*clients), timeout=60)
        exit_code = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Uvicorn re-raises the signal once it has shut down, so the exit is "killed by SIGTERM"
    # (143 in a shell), as the process manager that sent it expects.
    assert exit_code in (0, -signal.SIGTERM), log.read_text()
    assert any(moment > signalled for moment in answered), "no request was in flight"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    last_request = max(n for n, line in enumerate(lines) if line["logger"] == "lrs.access")
    # The store is closed by the lifespan's shutdown, after the last request was answered.
    assert last_request < messages.index("Waiting for application shutdown.") \
        < messages.index("Application shutdown complete.")

    process, base = start(env, log)
    try:
        assert await missing_from(base, auth, acknowledged) == []
    finally:
        process.terminate()
        process.wait(timeout=15)


def in_flight(base: str) -> float:
    text = httpx.get(f"{base}/metrics",
                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    return sample(text, "lrs_http_requests_in_flight")


def test_sigterm_cancels_a_request_stuck_past_the_graceful_timeout(tmp_path: Path) -> None:
    """LRS_GRACEFUL_TIMEOUT_SECONDS reaches uvicorn: a request whose body never arrives is
    cancelled after it, and the store is still closed. (SQLite only: the timeout is
    uvicorn's, the same whatever the engine.)"""
    env = {**os.environ, "LRS_DATA_DIR": str(tmp_path), "LRS_GRACEFUL_TIMEOUT_SECONDS": "1",
           "LRS_METRICS_TOKEN": METRICS_TOKEN}
    env.pop("LRS_STORE", None)
    created = json.loads(run_lrs("credentials", "create", "--name", "slow", "--scopes", "all",
                                 "--json", env=env))
    log = tmp_path / "serve.log"
    process, base = start(env, log)
    try:
        port = int(base.rsplit(":", 1)[1])
        token = base64.b64encode(f"{created['key']}:{created['secret']}".encode()).decode()
        with socket.create_connection(("127.0.0.1", port)) as stuck:
            stuck.sendall(  # promises 1000 bytes of body, sends one
                b"POST /xapi/statements HTTP/1.1\r\nHost: lrs\r\nContent-Type: application/json"
                b"\r\nX-Experience-API-Version: 2.0.0\r\nAuthorization: Basic "
                + token.encode() + b"\r\nContent-Length: 1000\r\n\r\n[")
            deadline = time.monotonic() + 30
            while in_flight(base) < 2:  # the stuck request and this scrape
                assert time.monotonic() < deadline, "the request never started"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            exit_code = process.wait(timeout=60)  # without the timeout it would wait forever
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert exit_code in (0, -signal.SIGTERM), log.read_text()
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines()
                if line.startswith("{")]
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in messages
    assert messages.index("Cancel 1 running task(s), timeout graceful shutdown exceeded") \
        < messages.index("Application shutdown complete.")
