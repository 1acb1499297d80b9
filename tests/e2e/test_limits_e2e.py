"""End to end: limits hold on a real `lrs serve` over a socket: a slow-loris body is cut
off with 408, and a stream of oversized and hostile requests does not grow the process's
memory beyond a bound."""

from __future__ import annotations

import base64
import json
import os
import socket
from pathlib import Path

import httpx
import orjson
import pytest

from lrs.config import Settings
from tests.e2e.test_graceful_shutdown import start
from tests.e2e.test_serve import run_lrs
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
LIMIT = 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LRS_STORE": settings.store_url(),
            "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path),
            "LRS_MAX_BODY_BYTES": str(LIMIT), "LRS_BODY_TIMEOUT_SECONDS": "1",
            "LRS_LOG_LEVEL": "warning"}


def credential(env: dict[str, str]) -> tuple[str, str]:
    created = json.loads(run_lrs("credentials", "create", "--name", "limits", "--scopes",
                                 "all", "--retention", "full", "--json", env=env))
    return created["key"], created["secret"]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_slow_loris_body_is_cut_off_with_408(env: dict[str, str], tmp_path: Path) -> None:
    key, secret = credential(env)
    process, base = start(env, tmp_path / "serve.log")
    try:
        host, port = base.removeprefix("http://").split(":")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /xapi/statements HTTP/1.1\r\nHost: lrs\r\nContent-Type: application/json"
                b"\r\nX-Experience-API-Version: 2.0.0\r\nAuthorization: Basic "
                + token.encode() + b"\r\nContent-Length: 5000\r\n\r\n[{\"actor\":")
            answer = b""
            while chunk := sock.recv(65536):  # then nothing more: the server closes
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive within 1 seconds" in body
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_hostile_and_oversized_requests_do_not_grow_memory(
        env: dict[str, str], tmp_path: Path) -> None:
    auth = credential(env)
    process, base = start(env, tmp_path / "serve.log")
    huge = make_statement()
    huge["result"]["response"] = "x" * (LIMIT - 4096)  # valid, just under the limit
    # SQLite's page cache (64 MiB a connection, by design) grows with new data, so the huge
    # statement is one statement sent again and again (a retry: accepted, nothing new).
    bodies = [
        orjson.dumps(huge),  # a huge string
        b"[" * (LIMIT - 10),  # nested past any parser's depth
        b'{"actor": "' + b"\xff" * (LIMIT - 20) + b'"}',  # invalid UTF-8
        b"x" * (LIMIT + 1),  # over the limit
    ]
    headers = {"X-Experience-API-Version": "2.0.0", "Content-Type": "application/json"}
    try:
        with httpx.Client(base_url=base, auth=auth, headers=headers, timeout=60) as client:
            def round_of_requests() -> None:
                for body in bodies:
                    for _ in range(5):
                        response = client.post("/xapi/statements", content=body)
                        assert response.status_code in (200, 400, 413), response.text
                        assert response.status_code < 500
                # And without a Content-Length: a chunked body read only up to the limit.
                chunked = client.post("/xapi/statements",
                                      content=iter([b"y" * 65536] * (LIMIT // 65536 + 2)))
                assert chunked.status_code == 413, chunked.text

            round_of_requests()  # warm-up: caches, pools, allocator arenas
            warm = rss_mib(process.pid)
            for _ in range(5):  # 5 x 21 requests of about 1 MiB each
                round_of_requests()
            grown = rss_mib(process.pid) - warm
        print(f"RSS {warm:.0f} MiB after warm-up, grew {grown:.1f} MiB over 105 requests")
        assert grown < 64, f"RSS grew {grown:.0f} MiB after warm-up ({warm:.0f} MiB)"
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("raw", "named"), [
    (b"GET /xapi/about HTTP/1.1\r\nHost: lrs\r\nContent-Length:\r\n\r\n", "Content-Length"),
    (b"POST /xapi/statements HTTP/1.1\r\nHost: lrs\r\nContent-Length: 2\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n[]", "Transfer-Encoding"),
    (b"GET /xapi/about HTTP/1.1\r\nHost: lrs\r\nX-Note: a\x01b\r\n\r\n", "header value"),
    (b"G@T /xapi/about HTTP/1.1\r\nHost: lrs\r\n\r\n", "method"),
])
def test_a_request_that_is_not_http_gets_the_json_error_shape(
        env: dict[str, str], tmp_path: Path, raw: bytes, named: str) -> None:
    # Refused by the HTTP parser before the application sees it; uvicorn's own answer is
    # plain text. Found by schemathesis (an empty Content-Length header).
    process, base = start(env, tmp_path / "serve.log")
    try:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(raw)
            answer = b""
            while chunk := sock.recv(65536):  # the server closes the connection
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"content-type: application/json" in head.lower()
        error = orjson.loads(body)["error"]
        assert error["status"] == 400 and named.lower() in error["message"].lower(), error
        assert httpx.get(f"{base}/xapi/about").status_code == 200  # and it carries on
    finally:
        process.terminate()
        process.wait(timeout=30)
