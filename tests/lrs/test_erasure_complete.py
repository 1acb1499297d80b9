"""Erasure that is complete, on every engine: after `lrs forget` with each of a person's
identifiers, none of them is left in the store (the SQLite files byte for byte, every
MongoDB collection dumped), in any file under the data directory or around an import;
the credential bound to them is revoked and scrubbed; `--dry-run` changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from bson import encode
from click.testing import CliRunner
from pymongo import MongoClient

from lrs.cli import main
from lrs.config import Settings
from lrs.erasure_files import files_to_scan, scrub_file
from lrs.ingest import build_ingest
from lrs.people import Person, Role
from lrs.people.sessions import SessionRecord
from lrs.quarantine import keep_rejected
from lrs.storage import open_storage
from statements.erasure import ERASED_AGENT
from statements.errors import InvalidRequest
from statements.versions import XapiVersion
from tests.factories import make_agent, make_statement

MBOX = "mailto:Bob.Qz@acme.example"
SHA1 = hashlib.sha1(b"mailto:Bob.Qz@acme.example", usedforsecurity=False).hexdigest()
ACCOUNT = {"homePage": "https://sso.acme.example", "name": "bobqz-7781"}
OPENID = "https://openid.acme.example/bobqz"
BOB_MBOX = {"objectType": "Agent", "mbox": MBOX}
BOB_SHA1 = {"objectType": "Agent", "mbox_sha1sum": SHA1}
BOB_ACCOUNT = {"objectType": "Agent", "account": ACCOUNT}
BOB_OPENID = {"objectType": "Agent", "openid": OPENID}
IDENTIFIERS = [MBOX, "bob.qz@acme.example", SHA1, ACCOUNT["name"], OPENID]


def _env(settings: Settings) -> dict[str, str]:
    return {"LRS_STORE": settings.store_url(), "LRS_MONGODB_DATABASE": settings.mongodb_database,
            "LRS_DATA_DIR": str(settings.data_dir)}


def lrs(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=_env(settings))
    assert result.exit_code == 0, result.output
    return result.output


def _quarantine_one(settings: Settings, statement: dict[str, Any]) -> None:
    async def run() -> None:
        storage = await open_storage(settings)
        try:
            credential = await storage.credentials.find_by_name("lms")
            assert credential is not None
            ingest = await build_ingest(storage, settings)
            body = orjson.dumps(statement)
            try:
                await ingest(body, content_type="application/json",
                             version=XapiVersion("1.0.3"), credential=credential)
            except InvalidRequest as exc:  # what the Statements resource does with a 400
                assert await keep_rejected(storage, credential, body,
                                           content_type="application/json",
                                           version=XapiVersion("1.0.3"), error=exc,
                                           statement_id=None, now_ms=0) == 1
            else:
                raise AssertionError("the statement should have been rejected")
        finally:
            await storage.close()

    asyncio.run(run())


def _sign_in(settings: Settings, key: str, person: Person) -> None:
    async def run() -> None:
        storage = await open_storage(settings)
        try:
            now = datetime.now(UTC)
            await storage.sessions.create(SessionRecord(key, person, now, now, "id-token"))
        finally:
            await storage.close()

    asyncio.run(run())


def _sessions(settings: Settings, *keys: str) -> list[str]:
    async def run() -> list[str]:
        storage = await open_storage(settings)
        try:
            return [k for k in keys if await storage.sessions.get(k) is not None]
        finally:
            await storage.close()

    return asyncio.run(run())


def _store_dump(settings: Settings) -> bytes:
    """Everything the store holds, as bytes: the SQLite files as they are on disk, or each
    document of every MongoDB collection."""
    url = settings.store_url()
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        database = client[settings.mongodb_database]
        return b"".join(encode(doc) for name in sorted(database.list_collection_names())
                        for doc in database[name].find().sort("_id"))
    finally:
        client.close()


def _logical_dump(settings: Settings) -> bytes:
    url = settings.store_url()
    if not url.startswith("sqlite:///"):
        return _store_dump(settings)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return "\n".join(conn.iterdump()).encode()
    finally:
        conn.close()


def _files(settings: Settings, extra: list[Path]) -> dict[Path, bytes]:
    store = settings.store_url()
    paths = [p for p in settings.data_dir.rglob("*") if p.is_file()] + extra
    return {p: p.read_bytes() for p in paths
            if p.exists() and not (store.startswith("sqlite:///") and p.name.startswith("lrs.db"))}


def _found(data: bytes) -> list[str]:
    lowered = data.lower()
    return [i for i in IDENTIFIERS if i.lower().encode() in lowered]


def _contents(path: Path, data: bytes) -> bytes:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return data


def test_erasure_scan_finds_none_of_the_persons_identifiers_after_forget(
        settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"  # the inputs are not in it
    settings = settings.model_copy(update={"data_dir": data})
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    lrs(settings, "credentials", "create", "--name", "lms", "--scopes", "all", "--retention",
        "full", "--quarantine-days", "5")
    portfolio = json.loads(lrs(
        settings, "credentials", "create", "--name", "portfolio of bob.qz@acme.example",
        "--scopes", "statements/read/mine,statements/write", "--retention", "full",
        "--agent", json.dumps(BOB_MBOX), "--json"))
    carol = make_agent("carol")
    statements = [make_statement(actor=BOB_MBOX), make_statement(actor=BOB_ACCOUNT),
                  make_statement(actor=BOB_OPENID),
                  make_statement(actor=carol, context={"instructor": BOB_SHA1}),
                  make_statement(actor=carol)]
    history = inputs / "history.jsonl"
    history.write_text("\n".join(json.dumps(s) for s in statements) + "\n"
                       + json.dumps({**make_statement(actor=BOB_ACCOUNT), "verb": {}}) + "\n")
    CliRunner().invoke(main, ["import", str(history), "--credential", "lms"],
                       env=_env(settings))  # one line rejected: exits non-zero or not
    _quarantine_one(settings, make_statement(actor=BOB_OPENID,
                                             result={"score": {"min": 0, "max": 0}}))
    # Signed in (a session record holds the person's agent and name until it ends): Bob as a
    # learner, and as his organisation's login (subject = his account name) in another role.
    _sign_in(settings, "bob-learner", Person("https://idp.example", "s-1", "Bob Qz",
                                             frozenset({Role.LEARNER}), BOB_MBOX))
    _sign_in(settings, "bob-analyst", Person("https://idp.example", ACCOUNT["name"], "B. Qz",
                                             frozenset({Role.ANALYST})))
    _sign_in(settings, "carol", Person("https://idp.example", "s-3", "Carol",
                                       frozenset({Role.LEARNER}), carol))
    (data / "exports").mkdir(parents=True, exist_ok=True)
    lrs(settings, "export", "-q", "--agent", json.dumps(BOB_MBOX), "-o",
        str(data / "exports" / "bob.zip"))
    lrs(settings, "export", "-q", "-o", str(inputs / "everything.zip"))
    [imported] = [r for r in _audit(settings) if r.action == "statements_import"]
    around = [Path(imported.detail["checkpoint"]), Path(imported.detail["rejects"]),
              inputs / "everything.zip"]
    assert all(p.exists() for p in around), around
    assert set(files_to_scan(settings, _audit(settings))) >= {p.resolve() for p in around}
    assert _found(_store_dump(settings))  # the test finds them while they are there
    assert _found(_contents(inputs / "everything.zip", (inputs / "everything.zip").read_bytes()))
    agents = ["--agent", json.dumps(BOB_MBOX), "--agent", json.dumps(BOB_ACCOUNT),
              "--agent", json.dumps(BOB_OPENID)]

    store_before, files_before = _logical_dump(settings), _files(settings, around)
    preview = lrs(settings, "forget", *agents, "--dry-run")
    assert "dry run: nothing changed" in preview
    assert "statements would be deleted: 3, rewritten: 1" in preview
    assert f"credential {portfolio['key']} would be revoked" in preview
    assert "everything.zip would be deleted" in preview
    assert "sessions would be ended: 2" in preview
    assert _logical_dump(settings) == store_before
    assert _files(settings, around) == files_before

    done = lrs(settings, "forget", *agents, "--operator", "dpo")

    assert "statements deleted: 3, rewritten: 1" in done
    assert "quarantined statements deleted: 1" in done
    assert "sessions ended: 2" in done
    assert _sessions(settings, "bob-learner", "bob-analyst", "carol") == ["carol"]
    assert _found(_store_dump(settings)) == []
    for path, content in _files(settings, around).items():
        assert _found(_contents(path, content)) == [], path
    assert not (inputs / "everything.zip").exists()  # it held Bob: deleted, export again
    assert not (data / "exports" / "bob.zip").exists()
    assert history.read_text().count("bob") > 0  # the input is the operator's, not ours
    listed = json.loads(lrs(settings, "credentials", "list", "--json"))
    [scrubbed] = [c for c in listed if c["key"] == portfolio["key"]]
    assert scrubbed["revoked"] is not None and scrubbed["name"] == f"erased-{portfolio['key']}"
    stored = _credential_authority(settings, portfolio["key"])
    assert stored == ERASED_AGENT
    audit = _audit(settings)
    forgets = [r for r in audit if r.action == "forget"]
    assert len(forgets) == 3 and all(r.subject and len(r.subject) == 64 for r in forgets)
    assert "this agent was already erased" in lrs(settings, "forget", "--agent",
                                                  json.dumps(BOB_SHA1))


def _credential_authority(settings: Settings, key: str) -> Any:
    async def run() -> Any:
        storage = await open_storage(settings)
        try:
            found = await storage.credentials.get(key)
            assert found is not None
            return found.authority
        finally:
            await storage.close()

    return asyncio.run(run())


def _audit(settings: Settings) -> Any:
    async def run() -> Any:
        storage = await open_storage(settings)
        try:
            return await storage.erasure.audit_log()
        finally:
            await storage.close()

    return asyncio.run(run())


def test_erasure_files_keep_offsets_when_lines_are_erased(tmp_path: Path) -> None:
    rejects = tmp_path / "x.rejects.jsonl"
    lines = [orjson.dumps({"line": 1, "statement": {"actor": BOB_MBOX}}),
             orjson.dumps({"line": 2, "statement": {"actor": make_agent("carol")}})]
    rejects.write_bytes(b"\n".join(lines) + b"\n")
    size = rejects.stat().st_size

    assert scrub_file(rejects, IDENTIFIERS, dry_run=True) == "rewritten"
    assert rejects.read_bytes() == b"\n".join(lines) + b"\n"
    assert scrub_file(rejects, IDENTIFIERS) == "rewritten"

    assert rejects.stat().st_size == size  # an import checkpoint's offset still holds
    first, second = rejects.read_bytes().splitlines()
    assert orjson.loads(first) == {"erased": True} and second == lines[1]
    assert scrub_file(rejects, IDENTIFIERS) is None
    backup = tmp_path / "backup.db"
    connection = sqlite3.connect(backup)
    connection.execute("CREATE TABLE t (v TEXT)")
    connection.execute("INSERT INTO t VALUES (?)", (MBOX,))
    connection.commit()
    connection.close()
    before = backup.read_bytes()
    assert scrub_file(backup, IDENTIFIERS) is None and backup.read_bytes() == before


def test_erasure_files_to_scan_are_the_data_directory_and_recorded_files(
        tmp_path: Path) -> None:
    from statements.erasure import AuditRecord

    data = tmp_path / "data"
    (data / "imports").mkdir(parents=True)
    (data / "imports" / "a.rejects.jsonl").write_text("{}\n")
    (data / "lrs.db").write_text("")
    elsewhere = tmp_path / "in" / "b.jsonl.rejects.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text("{}\n")
    records = [AuditRecord("r", "import", 0, "cli", detail={
        "rejects": str(elsewhere), "checkpoint": str(tmp_path / "gone.json")})]

    found = files_to_scan(Settings(data_dir=data), records)

    assert sorted(found) == sorted([(data / "imports" / "a.rejects.jsonl").resolve(),
                                    elsewhere.resolve()])
    assert os.path.isabs(found[0])
