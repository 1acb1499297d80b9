"""End to end: `lrs import --from-lrs` from real peer LRSs over a socket (a second instance of
this LRS, and Ralph on its file-system backend), into each engine; killed and resumed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from lrs.config import Settings
from lrs.import_sources import LrsSource
from lrs.importer import import_files
from lrs.storage import open_storage
from statements.attachments import RawAttachment, render_multipart
from statements.datatypes import parse_timestamp
from statements.equivalence import content_hash
from statements.query import StatementQuery
from statements.versions import XapiVersion
from tests.e2e.test_serve import LRS, environment, free_port, kill_part_way, run_lrs, serve
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.e2e
RALPH_BIN = Path(__file__).resolve().parents[2] / ".ralph-venv" / "bin"
V1 = {"X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """A second instance of this LRS, on its own SQLite store: (xAPI endpoint, auth)."""
    home = tmp_path / "peer"
    home.mkdir()
    for base, auth in serve(Settings(data_dir=home), home, retention="full"):
        yield f"{base}/xapi", auth


@pytest.fixture
def ralph(tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """Ralph's LRS server (PyPI ralph-malph, `make .ralph-venv/.installed`) on its
    file-system backend, on a free loopback port: (xAPI endpoint, auth)."""
    assert (RALPH_BIN / "ralph").exists(), "run `make .ralph-venv/.installed` (make test does)"
    home = tmp_path / "ralph"
    (home / "data").mkdir(parents=True)
    env = {**os.environ, "RALPH_APP_DIR": str(home), "RALPH_AUTH_FILE": str(home / "auth.json"),
           "RALPH_RUNSERVER_BACKEND": "fs",
           "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(home / "data")}
    subprocess.run([str(RALPH_BIN / "ralph"), "auth", "-u", "migrator", "-p", "s3cret", "-s",
                    "all", "-M", "mailto:migrator@example.com", "-w"], env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    log = (home / "ralph.log").open("w")
    process = subprocess.Popen([str(RALPH_BIN / "python"), "-m", "uvicorn", "ralph.api:app",
                                "--host", "127.0.0.1", "--port", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/xAPI"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__lbheartbeat__").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (home / "ralph.log").read_text()
            assert time.monotonic() < deadline, "ralph did not start"
            time.sleep(0.2)
        yield base, ("migrator", "s3cret")
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def fill(endpoint: str, auth: tuple[str, str], count: int, *,
         attachment: bool = True, batch: int = 10) -> None:
    """`count` statements POSTed in batches (ids set, to compare), one with a raw
    attachment (multipart/mixed), each batch stored at its own time."""
    sent = [make_statement(id=str(uuid.uuid4()), actor=make_agent(f"learner{n}"))
            for n in range(count)]
    with httpx.Client(auth=auth, headers=V1, timeout=60) as client:
        if attachment:
            data = b"certificate of completion"
            sha2 = hashlib.sha256(data).hexdigest()
            with_file = dict(sent[0], attachments=[{
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"en-US": "certificate"}, "contentType": "text/plain",
                "length": len(data), "sha2": sha2}])
            body, content_type = render_multipart(orjson.dumps([with_file]), [
                RawAttachment(sha2, "text/plain", data)])
            answer = client.post(f"{endpoint}/statements", content=body,
                                 headers={"Content-Type": content_type})
            assert answer.status_code == 200, answer.text
            sent = sent[1:]
        for start in range(0, len(sent), batch):
            answer = client.post(f"{endpoint}/statements", json=sent[start:start + batch])
            assert answer.status_code == 200, answer.text
            time.sleep(0.01)  # distinct stored times


def everything(endpoint: str, auth: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """Every statement the peer holds, by id, as it returns them."""
    found: dict[str, dict[str, Any]] = {}
    url = f"{endpoint}/statements?limit=50"
    with httpx.Client(auth=auth, headers=V1, timeout=60) as client:
        while url:
            page = client.get(url).json()
            found.update({s["id"]: s for s in page["statements"]})
            more = page.get("more")
            url = str(httpx.URL(endpoint).join(more)) if more else ""
    return found


async def _attachment(settings: Settings, sha2: str) -> list[bytes]:
    storage = await open_storage(settings)
    try:
        return [a.data for a in await storage.statements.get_attachments([sha2])]
    finally:
        await storage.close()


async def _imported(settings: Settings) -> list[dict[str, Any]]:
    storage = await open_storage(settings)
    try:
        page = await storage.statements.query(StatementQuery(limit=100_000, ascending=True))
        return [orjson.loads(s) for s in page.statements]
    finally:
        await storage.close()


def imported(settings: Settings) -> list[dict[str, Any]]:
    return asyncio.run(_imported(settings))


def assert_migrated(held: dict[str, dict[str, Any]], settings: Settings) -> None:
    """Every statement of the peer, once, equivalent (xAPI statement comparison), with the
    peer's stored (to the millisecond) and authority; in the peer's stored order."""
    got = imported(settings)
    assert sorted(s["id"] for s in got) == sorted(held)
    for statement in got:
        original = held[statement["id"]]
        assert content_hash(statement) == content_hash(original)
        assert statement["authority"] == original["authority"]
        assert abs((parse_timestamp(statement["stored"]) - parse_timestamp(
            original["stored"])).total_seconds()) < 0.001
    stored = [parse_timestamp(s["stored"]) for s in got]
    assert stored == sorted(stored)


def migrate(endpoint: str, auth: tuple[str, str], env: dict[str, str], *extra: str,
            timeout: float = 240) -> str:
    return run_lrs("import", "--from-lrs", endpoint, "--key", auth[0], "--secret", auth[1],
                   "--credential", "new-home", *extra, env=env, timeout=timeout)


def test_import_from_another_instance_keeps_stored_authority_and_attachments(
        peer: tuple[str, tuple[str, str]], settings: Settings, tmp_path: Path) -> None:
    endpoint, auth = peer
    fill(endpoint, auth, 25)
    held = everything(endpoint, auth)
    env = environment(settings, tmp_path)
    run_lrs("credentials", "create", "--name", "new-home", "--scopes", "statements/write",
            "--retention", "full", env=env)

    output = migrate(endpoint, auth, env, "--batch-size", "7")

    assert "kept 25" in output and "rejected 0" in output
    assert_migrated(held, settings)
    [with_file] = [s for s in imported(settings) if s.get("attachments")]
    assert with_file["attachments"][0]["display"] == {"en-US": "certificate"}
    assert asyncio.run(_attachment(settings, with_file["attachments"][0]["sha2"])) == [
        b"certificate of completion"]
    checkpoint, rejects = import_files(Settings(data_dir=tmp_path), LrsSource(
        endpoint, auth, XapiVersion.V1))
    assert orjson.loads(checkpoint.read_bytes())["done"] and rejects.read_bytes() == b""
    # Again: already done; --restart: all held, nothing twice.
    assert "already imported" in migrate(endpoint, auth, env)
    assert "already held 25" in migrate(endpoint, auth, env, "--restart")
    assert_migrated(held, settings)


def test_import_from_ralph_keeps_stored_and_authority(
        ralph: tuple[str, tuple[str, str]], settings: Settings, tmp_path: Path) -> None:
    endpoint, auth = ralph
    # Ralph's file-system backend creates its file on the first POST and refuses a second
    # ("already exists and overwrite is not allowed"): one POST of them all.
    fill(endpoint, auth, 12, attachment=False, batch=12)
    held = everything(endpoint, auth)
    assert len(held) == 12
    env = environment(settings, tmp_path)
    run_lrs("credentials", "create", "--name", "new-home", "--scopes", "statements/write",
            "--retention", "full", env=env)

    output = migrate(endpoint, auth, env, "--batch-size", "5")

    assert "kept 12" in output and "rejected 0" in output, output
    assert_migrated(held, settings)
    assert {s["authority"]["mbox"] for s in imported(settings)} == {
        "mailto:migrator@example.com"}


def test_import_from_another_instance_killed_resumes_without_duplicates(
        peer: tuple[str, tuple[str, str]], settings: Settings, tmp_path: Path) -> None:
    endpoint, auth = peer
    fill(endpoint, auth, 300, attachment=False)
    held = everything(endpoint, auth)
    env = environment(settings, tmp_path)
    run_lrs("credentials", "create", "--name", "new-home", "--scopes", "statements/write",
            "--retention", "full", env=env)
    checkpoint, _ = import_files(Settings(data_dir=tmp_path), LrsSource(
        endpoint, auth, XapiVersion.V1))
    kill_part_way(["import", "--from-lrs", endpoint, "--key", auth[0], "--secret", auth[1],
                   "--credential", "new-home", "--batch-size", "3"], env,
                  tmp_path / "import.log", checkpoint, "line")
    assert 0 < len(imported(settings)) < len(held)  # really part-way

    output = migrate(endpoint, auth, env, "--batch-size", "50")

    assert "rejected 0" in output
    assert_migrated(held, settings)


def test_import_from_lrs_with_rejects_exits_3_and_lists_them_in_the_data_dir(
        peer: tuple[str, tuple[str, str]], settings: Settings, tmp_path: Path) -> None:
    endpoint, auth = peer
    fill(endpoint, auth, 4, attachment=False)
    env = environment(settings, tmp_path)
    run_lrs("credentials", "create", "--name", "new-home", "--scopes", "statements/write",
            "--retention", "full", env=env)
    # One of them is already here with other content: a 409 for that one, the rest kept.
    first = next(iter(everything(endpoint, auth).values()))
    clash = tmp_path / "clash.jsonl"
    clash.write_text(json.dumps(dict(make_statement(), id=first["id"])) + "\n")
    run_lrs("import", str(clash), "--credential", "new-home", env=env)

    # The secret from standard input (`--secret -`), out of the process list.
    done = subprocess.run([*LRS, "import", "--from-lrs", endpoint, "--key", auth[0],
                           "--secret", "-", "--credential", "new-home"], env=env,
                          input=auth[1] + "\n", capture_output=True, text=True, check=False,
                          timeout=240)

    assert done.returncode == 3, done.stdout + done.stderr
    assert "kept 3" in done.stdout and "rejected 1" in done.stdout
    _, rejects = import_files(Settings(data_dir=tmp_path), LrsSource(
        endpoint, auth, XapiVersion.V1))
    assert rejects.parent == tmp_path / "imports"
    [reject] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reject["id"] == first["id"] and reject["status"] == 409
