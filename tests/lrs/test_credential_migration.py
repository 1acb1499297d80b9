"""Stores made before credentials kept "last used", and audit records their detail, are
read and upgraded in place."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from lrs.config import Settings
from lrs.credentials import CheckMode, Credential, DocumentPuts, Retention
from lrs.credentials.records import from_record, to_record
from lrs.storage import open_storage
from statements.erasure import AuditRecord


async def test_sqlite_credentials_v1_gain_last_used_and_keep_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    with closing(sqlite3.connect(path)) as conn:  # the schema as version 1 left it
        conn.executescript("""
            CREATE TABLE schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL);
            INSERT INTO schema_versions VALUES ('credentials', 1);
            CREATE TABLE credentials (key TEXT PRIMARY KEY, name TEXT NOT NULL,
                secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, retention TEXT NOT NULL,
                authority TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT);
            CREATE INDEX credentials_name ON credentials(name);
            INSERT INTO credentials VALUES ('k1', 'lms', 'scrypt$x', 'all', 'full', '{}',
                '2026-01-01T00:00:00+00:00', NULL);
        """)
    storage = await open_storage(Settings(data_dir=tmp_path, store=f"sqlite:///{path}"))
    try:
        old = await storage.credentials.get("k1")
        assert old is not None and old.name == "lms" and old.last_used is None
        assert old.document_puts is DocumentPuts.STRICT  # today's behaviour, unchanged
        await storage.credentials.record_use("k1", datetime(2026, 2, 1, tzinfo=UTC))
        used = await storage.credentials.get("k1")
        assert used is not None and used.last_used == datetime(2026, 2, 1, tzinfo=UTC)
    finally:
        await storage.close()


def test_a_record_written_before_last_used_was_kept_reads_as_never_used() -> None:
    record = to_record(Credential(key="k", name="n", secret_hash="h", scopes=frozenset(),
                                  retention=Retention.TALLY, authority={},
                                  created=datetime(2026, 1, 1, tzinfo=UTC)))
    del record["last_used"]  # as a MongoDB document written by an earlier version
    del record["document_puts"]
    assert from_record(record).last_used is None
    assert from_record(record).document_puts is DocumentPuts.STRICT


async def test_sqlite_audit_log_v1_gains_detail_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    with closing(sqlite3.connect(path)) as conn:  # the erasure schema as version 1 left it
        conn.executescript("""
            CREATE TABLE schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL);
            INSERT INTO schema_versions VALUES ('erasure', 1);
            CREATE TABLE audit_log (
                run_id TEXT PRIMARY KEY, action TEXT NOT NULL, at INTEGER NOT NULL,
                operator TEXT NOT NULL, subject TEXT, counts TEXT NOT NULL);
            CREATE TABLE audit_secret (id INTEGER PRIMARY KEY CHECK (id = 1),
                key BLOB NOT NULL);
            INSERT INTO audit_log VALUES ('r1', 'purge', 5, 'cli', NULL,
                '{"statements_deleted": 2}');
        """)
    storage = await open_storage(Settings(data_dir=tmp_path, store=f"sqlite:///{path}"))
    try:
        added = AuditRecord("r2", "credential_create", 6, "cli", detail={"credential": "lms"})
        await storage.erasure.record(added)
        assert await storage.erasure.audit_log() == [
            AuditRecord("r1", "purge", 5, "cli", None, {"statements_deleted": 2}), added]
    finally:
        await storage.close()


async def test_sqlite_credentials_v2_gain_door_checks_that_read_as_off(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    with closing(sqlite3.connect(path)) as conn:  # the schema as version 2 left it
        conn.executescript("""
            CREATE TABLE schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL);
            INSERT INTO schema_versions VALUES ('credentials', 2);
            CREATE TABLE credentials (key TEXT PRIMARY KEY, name TEXT NOT NULL,
                secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, retention TEXT NOT NULL,
                authority TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT, last_used TEXT);
            CREATE INDEX credentials_name ON credentials(name);
            INSERT INTO credentials VALUES ('k1', 'lms', 'scrypt$x', 'all', 'full', '{}',
                '2026-01-01T00:00:00+00:00', NULL, NULL);
        """)
    storage = await open_storage(Settings(data_dir=tmp_path, store=f"sqlite:///{path}"))
    try:
        old = await storage.credentials.get("k1")
        assert old is not None and old.name == "lms"
        assert (old.cmi5, old.profiles, old.cmi5_lms) == (CheckMode.OFF, CheckMode.OFF, False)
        await storage.credentials.set_checks("k1", cmi5=CheckMode.FLAG,
                                             profiles=CheckMode.REJECT, cmi5_lms=True)
        changed = await storage.credentials.get("k1")
        assert changed is not None
        assert (changed.cmi5, changed.profiles, changed.cmi5_lms) == (
            CheckMode.FLAG, CheckMode.REJECT, True)
    finally:
        await storage.close()


def test_a_record_written_before_the_door_checks_reads_as_off() -> None:
    record = to_record(Credential(key="k", name="n", secret_hash="h", scopes=frozenset(),
                                  retention=Retention.TALLY, authority={},
                                  created=datetime(2026, 1, 1, tzinfo=UTC),
                                  cmi5=CheckMode.REJECT, cmi5_lms=True))
    assert from_record(record).cmi5 is CheckMode.REJECT and from_record(record).cmi5_lms
    for field in ("cmi5", "profiles", "cmi5_lms"):  # a MongoDB document of an earlier version
        del record[field]
    old = from_record(record)
    assert (old.cmi5, old.profiles, old.cmi5_lms) == (CheckMode.OFF, CheckMode.OFF, False)
