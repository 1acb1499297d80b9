"""`lrs import` in process on every engine: decisions, rejects, idempotency."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.erasure import forget
from lrs.import_sources import FileSource, import_files_dir
from lrs.importer import Importer, ImportFailed
from lrs.storage import Storage
from plugins.catalogue import CatalogueEntry
from statements.query import StatementQuery
from statements.versions import XapiVersion
from tests.conftest import add_credential
from tests.factories import COURSE, make_agent, make_statement
from tests.lrs.test_erasure_contract import NOW, VIEWED

pytestmark = pytest.mark.usefixtures("engine")


def kept(n: int, **overrides: Any) -> dict[str, Any]:
    return make_statement(**{"actor": make_agent(f"learner{n}"), "timestamp": NOW,
                             **overrides})


def viewed(n: int, **overrides: Any) -> dict[str, Any]:
    return make_statement(**{"actor": make_agent(f"reader{n}"), "verb": {"id": VIEWED},
                             "result": None, "object": {"id": f"http://intranet/page/{n}"},
                             "timestamp": NOW, "context": {"platform": "intranet"},
                             **overrides})


def sample_file(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Nine good statements (five kept, four tallied; three without id) and three bad."""
    good = [kept(1), kept(2), kept(3), kept(4, id=None), kept(5, id=None),
            viewed(1), viewed(2), viewed(3, id=None), viewed(4)]
    bad_actor = kept(6, actor={"mbox": "alice@example.com"})
    conflict = dict(good[0], result={"completion": False})
    lines = [orjson.dumps(s).decode() for s in good[:3]] + [
        "{not json", "", json.dumps(bad_actor)] + [
        orjson.dumps(s).decode() for s in good[3:]] + [json.dumps(conflict)]
    path = tmp_path / "statements.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, good


async def store_state(storage: Storage) -> Any:
    page = await storage.statements.query(StatementQuery(limit=1000))
    today = int(time.time() * 1000) // 86_400_000
    return (sorted(orjson.loads(s)["id"] for s in page.statements),
            await storage.tally.summary(today - 2, today + 1))


async def importer(storage: Storage, settings: Settings, path: Path) -> Importer:
    await add_credential(storage, Scope.STATEMENTS_WRITE, name="old-lms",
                         retention=Retention.TALLY)
    credential = await storage.credentials.find_by_name("old-lms")
    assert credential is not None
    return Importer(storage, settings, credential, FileSource(path), XapiVersion.V2,
                    batch_size=4)


async def test_import_decides_each_statement_and_lists_rejects_with_lines_and_paths(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    path, good = sample_file(tmp_path)
    run = await importer(storage, settings, path)

    summary = await run.run()

    assert dict(summary.counts) == {"kept": 5, "tallied": 4, "dropped": 0, "held": 0,
                                    "rejected": 3}
    rejects = [json.loads(line) for line in run.rejects.read_text().splitlines()]
    assert [(r["line"], r["status"]) for r in rejects] == [(4, 400), (6, 400), (13, 409)]
    assert "not valid JSON" in rejects[0]["message"]
    assert rejects[1]["problems"][0]["path"] == "$.actor.mbox"
    assert rejects[2]["id"] == good[0]["id"] and rejects[2]["problems"][0]["path"] == "$.id"
    ids, totals = await store_state(storage)
    assert len(ids) == 5 and {g["id"] for g in good[:3]} <= set(ids)
    assert totals.hits == 4 and totals.decisions == {"full": 5, "tally": 4}


async def test_import_run_twice_or_restarted_stores_and_counts_each_statement_once(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    path, _ = sample_file(tmp_path)
    run = await importer(storage, settings, path)
    await run.run()
    after_first = await store_state(storage)
    first_rejects = run.rejects.read_text()

    again = await run.run()
    assert again.already_done
    restarted = await run.run(restart=True)

    assert dict(restarted.counts) == {"kept": 0, "tallied": 0, "dropped": 0, "held": 9,
                                      "rejected": 3}
    assert await store_state(storage) == after_first
    assert run.rejects.read_text() == first_rejects


async def test_import_refuses_a_checkpoint_of_another_file(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    path, _ = sample_file(tmp_path)
    run = await importer(storage, settings, path)
    await run.run()
    path.write_text(orjson.dumps(kept(9)).decode() + "\n")
    with pytest.raises(ImportFailed, match="another version of the file"):
        await run.run()


async def test_import_reads_a_statement_array(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "statements.json"
    path.write_text(json.dumps([viewed(1), viewed(2, id=None), {"actor": {}}], indent=2))
    run = await importer(storage, settings, path)
    summary = await run.run()
    assert (summary.counts["tallied"], summary.counts["rejected"]) == (2, 1)
    [reject] = [json.loads(line) for line in run.rejects.read_text().splitlines()]
    assert reject["line"] == 3 and reject["status"] == 400


async def test_import_leaves_out_people_erased_since_the_file_was_written(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    alice, bob, dave = make_agent("alice"), make_agent("bob"), make_agent("dave")
    taught_before = kept(10, context={"instructor": alice, "platform": "LMS"})
    first = tmp_path / "first.jsonl"
    first.write_text(orjson.dumps(taught_before).decode() + "\n")
    await (await importer(storage, settings, first)).run()
    # Erased: Alice and Bob by mbox, Dave by the SHA1 of his (either form must match).
    for key in ("mbox:mailto:alice@example.com", "mbox:mailto:bob@example.com",
                f"mbox_sha1sum:{_sha1('mailto:dave@example.com')}"):
        await forget(storage, key, now_ms=int(time.time() * 1000), operator="test")

    in_extension = kept(15, result={"completion": True, "extensions": {
        "http://e.com/witness": alice}})
    old_file = [
        kept(11, actor=alice), viewed(11, actor=alice),  # their own: left out
        kept(12, actor={"mbox_sha1sum": _sha1("mailto:bob@example.com")}),
        kept(13, actor=dave),
        kept(14, context={"instructor": alice, "platform": "LMS"}),  # stored without her
        taught_before,  # stored before, rewritten by the erasure: held
        in_extension,  # forget leaves extensions alone, so does the import
        kept(16),
        kept(17, actor={"objectType": "Group", "member": [make_agent("erin"), bob]}),
    ]
    path = tmp_path / "old-export.jsonl"
    path.write_text("\n".join(orjson.dumps(s).decode() for s in old_file) + "\n")
    run = await importer(storage, settings, path)

    summary = await run.run()

    assert dict(summary.counts) == {"kept": 4, "tallied": 0, "dropped": 0, "held": 1,
                                    "erased": 4, "redacted": 2}
    assert "4 statements left out, 2 without them" in summary.line()
    ids, totals = await store_state(storage)
    assert set(ids) == {taught_before["id"], old_file[4]["id"], in_extension["id"],
                        old_file[7]["id"], old_file[8]["id"]}
    assert totals.hits == 0
    page = await storage.statements.query(StatementQuery(limit=100))
    stored = {s["id"]: s for s in map(orjson.loads, page.statements)}
    assert "instructor" not in stored[old_file[4]["id"]]["context"]
    assert "instructor" not in stored[taught_before["id"]]["context"]
    assert stored[in_extension["id"]]["result"]["extensions"] == {"http://e.com/witness": alice}
    assert stored[old_file[8]["id"]]["actor"]["member"] == [make_agent("erin")]

    again = await run.run(restart=True)  # idempotent: what is stored is held
    assert dict(again.counts) == {"kept": 0, "tallied": 0, "dropped": 0, "held": 5,
                                  "erased": 4}
    assert await store_state(storage) == (ids, totals)


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


OLD_AUTHORITY = {"objectType": "Agent", "name": "old LRS",
                 "account": {"homePage": "https://old.example.com", "name": "lms"}}


def migrated(n: int, stored: str) -> dict[str, Any]:
    """A statement as another LRS returns it: with its own stored and authority."""
    return kept(n, stored=stored, authority=OLD_AUTHORITY)


async def test_import_keeps_stored_and_authority_and_since_until_find_them(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    times = ["2025-03-01T10:00:05.000Z", "2025-03-01T10:00:06.250Z", "2025-03-02T08:00:00Z"]
    sent = [migrated(n, t) for n, t in enumerate(times)]
    path = tmp_path / "from-elsewhere.jsonl"
    path.write_text("".join(orjson.dumps(s).decode() + "\n" for s in sent))
    run = await importer(storage, settings, path)

    summary = await run.run()

    assert summary.counts["kept"] == 3
    assert "stored from 2025-03-01T10:00:05.000Z to 2025-03-02T08:00:00.000Z" in summary.line()
    page = await storage.statements.query(StatementQuery(limit=10, ascending=True))
    back = [orjson.loads(s) for s in page.statements]
    assert [b["stored"] for b in back] == [
        "2025-03-01T10:00:05.000Z", "2025-03-01T10:00:06.250Z", "2025-03-02T08:00:00.000Z"]
    assert all(b["authority"] == OLD_AUTHORITY for b in back)
    assert [b["id"] for b in back] == [s["id"] for s in sent]
    # The stored-time index orders and windows them by their own stored, on both engines.
    window = await storage.statements.query(StatementQuery(
        limit=10, since_ms=1740823205000, until_ms=1740902400000))  # (10:00:05, 03-02 08:00]
    assert [orjson.loads(s)["id"] for s in window.statements] == [sent[2]["id"], sent[1]["id"]]
    # Checkpoint and rejects live in the data directory, never beside the input.
    assert run.checkpoint.parent == run.rejects.parent == import_files_dir(settings)
    assert run.checkpoint.exists() and not list(tmp_path.glob("from-elsewhere.jsonl.*"))


async def test_import_restamped_gets_the_import_time_and_the_credential_authority(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    path = tmp_path / "restamp.jsonl"
    path.write_text(orjson.dumps(migrated(1, "2025-03-01T10:00:05.000Z")).decode() + "\n")
    run = await importer(storage, settings, path)
    run.keep_lrs_set = False
    await run.run()
    [stored] = (await storage.statements.query(StatementQuery(limit=10))).statements
    statement = orjson.loads(stored)
    assert statement["stored"] > "2026" and statement["authority"] != OLD_AUTHORITY


async def test_import_reads_a_learning_locker_mongoexport(
        storage: Storage, settings: Settings, tmp_path: Path) -> None:
    """`mongoexport --collection statements`: Extended JSON, one document a line, the
    statement under `statement`, LL's metadata beside it, `.` in keys kept as `&46;`."""
    await storage.catalogue.replace([CatalogueEntry("activity", COURSE)])
    statement = migrated(7, "2023-05-04T12:00:00.000Z")
    statement["context"] = {"extensions": {"http://example&46;com/ext": {"a&46;b": 1}}}
    document = {"_id": {"$oid": "6453a1b2c3d4e5f6a7b8c9d0"},
                "lrs_id": {"$oid": "5f1e2d3c4b5a69788796a5b4"},
                "client": {"$oid": "5f1e2d3c4b5a69788796a5b5"},
                "statement": statement, "stored": {"$date": "2023-05-04T12:00:00.000Z"},
                "timestamp": {"$date": NOW}, "voided": False, "active": True,
                "hash": "0" * 40, "person": None, "organisation": {"$oid": "0" * 24}}
    path = tmp_path / "statements.mongoexport.json"
    path.write_text(orjson.dumps(document).decode() + "\n")
    summary = await (await importer(storage, settings, path)).run()
    assert summary.counts["kept"] == 1, summary.line()
    [stored] = (await storage.statements.query(StatementQuery(limit=10))).statements
    back = orjson.loads(stored)
    assert back["id"] == statement["id"] and back["stored"] == "2023-05-04T12:00:00.000Z"
    assert back["context"]["extensions"] == {"http://example.com/ext": {"a.b": 1}}
    assert back["authority"] == OLD_AUTHORITY
