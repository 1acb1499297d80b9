"""End to end: the `lrs` command starts a real uvicorn process, driven over a socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
LRS = [sys.executable, "-m", "lrs"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_lrs(*args: str, env: dict[str, str], timeout: float = 60) -> str:
    done = subprocess.run([*LRS, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def environment(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The environment of an `lrs` command on the test's store (its engine) and data dir."""
    return {**os.environ, "LRS_STORE": settings.store_url(),
            "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path)}


def kill_part_way(args: list[str], env: dict[str, str], log: Path, checkpoint: Path,
                  progress: str) -> None:
    """Run `lrs ARGS`, and SIGKILL it as soon as its checkpoint file records some progress
    (its `progress` field is set): an import interrupted part-way, for the resume tests."""
    with log.open("w") as out:
        process = subprocess.Popen([*LRS, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (checkpoint.exists() and json.loads(checkpoint.read_bytes())[progress]):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """A running `lrs serve` on a free port with a fresh credential: (base URL, auth)."""
    yield from serve(settings, tmp_path, retention="full")


def serve(settings: Settings, tmp_path: Path, *, retention: str,
          extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, tuple[str, str]]]:
    """Run `lrs serve` until the generator is closed; yield (base URL, (key, secret))."""
    env = {**os.environ, "LRS_STORE": settings.store_url(),
           "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path),
           **(extra_env or {})}
    created = json.loads(run_lrs("credentials", "create", "--name", "e2e", "--scopes",
                                 "all", "--retention", retention, "--json", env=env))
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([*LRS, "serve", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/xapi/about").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "lrs serve did not start"
            time.sleep(0.1)
        yield base, (created["key"], created["secret"])
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_post_then_read_back_over_a_socket(server: tuple[str, tuple[str, str]]) -> None:
    base, auth = server
    headers = {"X-Experience-API-Version": "1.0.3"}
    with httpx.Client(base_url=base, auth=auth, headers=headers) as client:
        empty = client.get("/xapi/statements")
        assert empty.status_code == 200
        assert empty.json() == {"statements": [], "more": ""}
        statement = make_statement()
        posted = client.post("/xapi/statements", json=statement)
        assert posted.status_code == 200 and posted.json() == [statement["id"]]
        got = client.get("/xapi/statements", params={"statementId": statement["id"]})
        assert got.json()["actor"] == statement["actor"]
        assert got.headers["x-experience-api-version"] == "1.0.3"
        assert len(got.headers.get_list("date")) == 1  # the CTS breaks on two Date headers
        head = client.head("/xapi/statements", params={"statementId": statement["id"]})
        assert head.status_code == 200 and head.content == b""
        assert client.get("/xapi/statements", auth=("nobody", "x")).status_code == 401
