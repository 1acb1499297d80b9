"""`lrs catalogue add` with rules and validity, and `lrs report`, on every engine."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.storage import open_storage
from statements.enrich import enrich
from statements.versions import XapiVersion
from tests.factories import COURSE, make_agent, make_statement

ADL = "http://adlnet.gov/expapi/verbs/"
AUTHORITY = {"objectType": "Agent", "mbox": "mailto:lrs@example.com"}


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`lrs …` on the test's engine: its exit code and output."""
    monkeypatch.setenv("LRS_MONGODB_DATABASE", settings.mongodb_database)
    monkeypatch.setenv("LRS_DATA_DIR", str(settings.data_dir))

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--store", str(settings.store)])
        return result.exit_code, result.output

    return invoke


def keep(settings: Settings, *statements: dict[str, Any]) -> None:
    """Store kept statements (the CLI runs its own event loop, so this test has none)."""
    async def save() -> None:
        storage = await open_storage(settings)
        try:
            await storage.statements.save([
                enrich(s, statement_id=s["id"], stored=datetime.now(UTC), authority=AUTHORITY,
                       version=XapiVersion.V2) for s in statements])
        finally:
            await storage.close()

    asyncio.run(save())


def did(agent: str, verb: str, when: str, **result: Any) -> dict[str, Any]:
    return make_statement(actor=make_agent(agent), verb={"id": ADL + verb}, timestamp=when,
                          result=result or None)


def test_cli_catalogue_add_and_report_as_of(cli: Any, settings: Settings) -> None:
    code, out = cli("catalogue", "add", "activity", COURSE, "--name", "Fire safety",
                    "--verb", ADL + "passed", "--min-score", "0.8", "--valid-for", "P12M",
                    "--warn-before", "P1M")
    assert (code, out.strip()) == (0, f"added activity {COURSE}")
    code, out = cli("catalogue", "export")
    [entry] = json.loads(out)["entries"]
    assert entry["completion"] == {"verbs": [ADL + "passed"], "min_score": 0.8}
    assert (entry["valid_for"], entry["warn_before"]) == ("P12M", "P1M")
    passed = did("alice", "passed", "2025-01-15T00:00:00.000Z", score={"scaled": 0.9})
    keep(settings, passed,
               did("bob", "passed", "2025-01-15T00:00:00.000Z", score={"scaled": 0.5}),
               did("carol", "completed", "2025-01-15T00:00:00.000Z"))
    code, out = cli("report", "--as-of", "2025-12-20")
    assert code == 0, out
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(out, newline=""))}
    alice = rows["mbox:mailto:alice@example.com"]
    assert (alice["status"], alice["valid_until"], alice["decided_by"]) == (
        "expiring", "2026-01-15T00:00:00.000Z", passed["id"])
    assert rows["mbox:mailto:bob@example.com"]["status"] == "not completed"
    assert rows["mbox:mailto:carol@example.com"]["status"] == "not completed"  # not a pass
    code, out = cli("report", "--activity", COURSE, "--format", "json", "--as-of", "2026-02-01")
    body = json.loads(out)
    assert body["as_of"] == "2026-02-01T00:00:00.000Z"
    assert [r["status"] for r in body["rows"]] == ["expired", "not completed", "not completed"]
    code, out = cli("report", "--as-of", "2025-01-01", "--format", "json")
    assert json.loads(out)["rows"] == []  # nothing had happened yet


def test_cli_report_roster_and_bad_options(cli: Any, settings: Settings,
                                                 tmp_path: Path) -> None:
    keep(settings, did("alice", "completed", "2025-01-15T00:00:00.000Z"))
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps({"roster": [make_agent("alice"), make_agent("bob")]}))
    code, out = cli("report", "--activity", COURSE, "--roster", str(roster))
    assert code == 0, out
    assert [(r["agent"], r["status"]) for r in csv.DictReader(io.StringIO(out))] == [
        ("mbox:mailto:alice@example.com", "completed"), ("mbox:mailto:bob@example.com",
                                                         "no record")]
    code, out = cli("report", "--as-of", "soon")
    assert code == 2 and "--as-of:" in out
    code, out = cli("catalogue", "add", "activity", COURSE, "--valid-for", "a year")
    assert code == 2 and "--valid-for: 'a year' is not an ISO 8601 duration" in out
    code, out = cli("catalogue", "add", "activity", COURSE, "--verb", "passed")
    assert code == 2 and "--completion.verbs[0]: 'passed' is not an absolute IRI" in out
