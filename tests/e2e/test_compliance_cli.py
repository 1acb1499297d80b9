"""End to end: compliance reports, the portfolio and `lrs export`, with real `lrs` processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from lrs.config import Settings
from tests.e2e.test_serve import LRS, run_lrs, serve
from tests.factories import COURSE, make_agent, make_statement

pytestmark = pytest.mark.e2e
V = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LRS_STORE": settings.store_url(),
            "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path)}


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    yield from serve(settings, tmp_path, retention="full")


def create(env: dict[str, str], *args: str) -> tuple[str, str]:
    created = json.loads(run_lrs("credentials", "create", *args, "--json", env=env))
    return created["key"], created["secret"]


def test_e2e_report_portfolio_and_export(server: tuple[str, tuple[str, str]],
                                         env: dict[str, str], tmp_path: Path) -> None:
    base, auth = server
    alice, bob = make_agent("alice"), make_agent("bob")
    done = make_statement(actor=alice)
    pending = make_statement(actor=bob, result={"completion": False})
    with httpx.Client(base_url=base, auth=auth, headers=V) as client:
        assert client.post("/xapi/statements", json=[done, pending]).status_code == 200
    auditor = create(env, "--name", "auditor", "--scopes", "compliance/read")
    learner = create(env, "--name", "alice-app", "--scopes", "statements/read/mine",
                     "--agent", orjson.dumps(alice).decode())
    with httpx.Client(base_url=base, headers=V) as client:
        report = client.post("/api/v1/compliance/report", auth=auditor,
                             params={"activity": COURSE, "format": "csv"},
                             json={"roster": [alice, bob, make_agent("carol")]})
        assert report.status_code == 200
        rows = list(csv.DictReader(io.StringIO(report.text, newline="")))
        assert [(r["agent"], r["status"]) for r in rows] == [
            ("mbox:mailto:alice@example.com", "completed"),
            ("mbox:mailto:bob@example.com", "not completed"),
            ("mbox:mailto:carol@example.com", "no record")]
        portfolio = client.get("/api/v1/portfolio", auth=learner)
        assert portfolio.status_code == 200
        statements = orjson.loads(zipfile.ZipFile(io.BytesIO(portfolio.content))
                                  .read("statements.json"))
        assert [s["id"] for s in statements] == [done["id"]]
        assert client.get("/api/v1/compliance/report", auth=learner).status_code == 403
    # The real `lrs export`, against the same store while the server runs.
    output = tmp_path / "evidence.zip"
    finished = subprocess.run(
        [*LRS, "export", "--output", str(output), "--agent", orjson.dumps(bob).decode()],
        env={**env, "TTY_COMPATIBLE": "1", "COLUMNS": "100"}, capture_output=True, text=True,
        timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    assert f"exported 1 statement to {output}" in finished.stdout
    assert "exporting" in finished.stderr and "1 statements" in finished.stderr  # the bar
    archive = zipfile.ZipFile(output)
    lines = archive.read("statements.jsonl").decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [pending["id"]]
    assert json.loads(archive.read("manifest.json"))["statements"] == 1
    assert not output.with_name(output.name + ".partial").exists()


def test_e2e_export_rejects_a_bad_filter_and_writes_nothing(env: dict[str, str],
                                                           tmp_path: Path) -> None:
    output = tmp_path / "x.zip"
    finished = subprocess.run(
        [*LRS, "export", "--output", str(output), "--agent", '{"mbox": "alice"}'],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 2
    assert "--agent.mbox" in finished.stderr
    assert not output.exists()
    bad_since = subprocess.run([*LRS, "export", "-o", str(output), "--since", "May"],
                               env=env, capture_output=True, text=True, timeout=60,
                               check=False)
    assert bad_since.returncode == 2 and "--since" in bad_since.stderr


def test_e2e_credentials_create_rejects_a_bad_agent(env: dict[str, str]) -> None:
    finished = subprocess.run(
        [*LRS, "credentials", "create", "--name", "x", "--scopes", "statements/read/mine",
         "--agent", '{"objectType": "Agent", "mbox": "mailto:a@example.com", "openid": '
                    '"http://a.example.com"}'],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 2
    assert "--agent" in finished.stderr
