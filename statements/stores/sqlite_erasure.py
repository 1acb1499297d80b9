"""Erasure on SQLite: deletes and rewrites in the statements' tables, and the audit log."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from statements.erasure import AuditRecord, Change, KeptStatement
from statements.indexing import StatementIndex, index_statement
from statements.stores.sqlite_compliance import INSERT_RESULTS, result_rows
from statements.stores.sqlite_db import SqliteDatabase, run_script, transaction

_CHUNK = 500


def _schema_v1(conn: sqlite3.Connection) -> None:
    # subject: an HMAC of the erased agent key (never the key); counts: a JSON object.
    run_script(conn, """
        CREATE TABLE audit_log (
            run_id TEXT PRIMARY KEY, action TEXT NOT NULL, at INTEGER NOT NULL,
            operator TEXT NOT NULL, subject TEXT, counts TEXT NOT NULL
        );
        CREATE INDEX audit_log_subject ON audit_log(subject) WHERE subject IS NOT NULL;
        CREATE TABLE audit_secret (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL)
    """)


def _schema_v2(conn: sqlite3.Connection) -> None:
    # detail: a JSON object of what an admin action acted on (NULL: none).
    conn.execute("ALTER TABLE audit_log ADD COLUMN detail TEXT")


def _kept(row: tuple[str, int, bytes]) -> KeptStatement:
    return KeptStatement(row[0], row[1], orjson.loads(row[2]))


def _drop_index(conn: sqlite3.Connection, seq: int, stored: int, index: StatementIndex) -> None:
    # By the side tables' whole key (agent/activity, stored, seq): no scan.
    conn.executemany("DELETE FROM statement_agents WHERE agent=? AND stored=? AND seq=?",
                     [(key, stored, seq) for key in index.related_agents])
    conn.executemany("DELETE FROM statement_activities WHERE activity=? AND stored=? AND seq=?",
                     [(key, stored, seq) for key in index.related_activities])


def _seq(conn: sqlite3.Connection, statement_id: str) -> int | None:
    row = conn.execute("SELECT seq FROM statements WHERE id=?", (statement_id,)).fetchone()
    return row[0] if row else None


def _referenced(conn: sqlite3.Connection, sha2: str) -> bool:
    # No side table of attachment references: a scan, run only for attachments whose
    # statement was just deleted (erasure is rare; the write path pays nothing).
    return conn.execute(
        "SELECT 1 FROM statements WHERE instr(body, ?) OR instr(body, ?) LIMIT 1",
        (sha2.lower().encode(), sha2.upper().encode())).fetchone() is not None


def _apply(conn: sqlite3.Connection, change: Change, audit: AuditRecord) -> dict[str, int]:
    done = dict.fromkeys(("statements_deleted", "statements_rewritten", "documents_deleted",
                          "attachments_deleted"), 0)
    for kept in change.delete:
        seq = _seq(conn, kept.id)
        if seq is None:
            continue
        _drop_index(conn, seq, kept.stored_ms, index_statement(kept.statement))
        conn.execute("DELETE FROM statements WHERE seq=?", (seq,))
        done["statements_deleted"] += 1
    for before, after in change.rewrite:
        seq = _seq(conn, before.id)
        if seq is None:
            continue
        _drop_index(conn, seq, before.stored_ms, index_statement(before.statement))
        index = after.index
        # The content hash of the statement as received stays: a platform retrying the
        # original is answered as before and does not bring the identifier back.
        conn.execute("UPDATE statements SET verb=?, activity=?, registration=?, ref_target=?,"
                     " authority=?, body=? WHERE seq=?",
                     (index.verb, index.activity, index.registration, index.ref_target,
                      index.authority, orjson.dumps(after.statement), seq))
        conn.executemany(
            "INSERT INTO statement_agents(agent, stored, seq, direct) VALUES (?,?,?,?)",
            [(key, before.stored_ms, seq, int(key in index.agents))
             for key in index.related_agents])
        conn.executemany("INSERT INTO statement_activities(activity, stored, seq) VALUES (?,?,?)",
                         [(key, before.stored_ms, seq) for key in index.related_activities])
        conn.executemany(INSERT_RESULTS, result_rows(seq, after.statement, index))
        done["statements_rewritten"] += 1
    agents = sorted(change.document_agents)
    for start in range(0, len(agents), _CHUNK):
        chunk = agents[start:start + _CHUNK]
        done["documents_deleted"] += conn.execute(
            "DELETE FROM documents WHERE kind IN ('state', 'agent_profile') AND agent IN "
            f"({','.join('?' * len(chunk))})", chunk).rowcount
    for sha2 in sorted(change.attachments):
        if not _referenced(conn, sha2):
            done["attachments_deleted"] += conn.execute(
                "DELETE FROM attachments WHERE sha2=?", (sha2,)).rowcount
    _audit(conn, audit, done)
    return done


def _audit(conn: sqlite3.Connection, audit: AuditRecord, done: dict[str, int]) -> None:
    row = conn.execute("SELECT counts FROM audit_log WHERE run_id=?", (audit.run_id,)).fetchone()
    counts: dict[str, int] = orjson.loads(row[0]) if row else {}
    for name, value in [*audit.counts.items(), *done.items()]:
        counts[name] = counts.get(name, 0) + value
    conn.execute(
        "INSERT INTO audit_log(run_id, action, at, operator, subject, counts, detail)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT(run_id) DO UPDATE SET counts=excluded.counts",
        (audit.run_id, audit.action, audit.at_ms, audit.operator, audit.subject,
         orjson.dumps(counts).decode(),
         orjson.dumps(audit.detail).decode() if audit.detail else None))


class SqliteErasureStore:
    """ErasureStore on the SqliteDatabase the statement and document stores use."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema (after the statement and document stores)."""
        await self._db.migrate([_schema_v1, _schema_v2], name="erasure")

    async def involving(self, keys: Collection[str]) -> list[KeptStatement]:
        wanted = sorted(keys)

        def run(conn: sqlite3.Connection) -> list[KeptStatement]:
            rows = conn.execute(
                "SELECT s.id, s.stored, s.body FROM statements s WHERE s.seq IN (SELECT seq"
                f" FROM statement_agents WHERE agent IN ({','.join('?' * len(wanted))}))"
                " ORDER BY s.seq", wanted).fetchall()
            return [_kept(row) for row in rows]

        return await self._db.read(run)

    async def stored_before(self, before_ms: int, after: tuple[int, str] | None,
                            limit: int) -> list[KeptStatement]:
        cursor = after or (-1, "")

        def run(conn: sqlite3.Connection) -> list[KeptStatement]:
            rows = conn.execute(
                "SELECT id, stored, body FROM statements WHERE stored<? AND (stored, id) > (?, ?)"
                " ORDER BY stored, id LIMIT ?", (before_ms, *cursor, limit)).fetchall()
            return [_kept(row) for row in rows]

        return await self._db.read(run)

    async def apply(self, change: Change, audit: AuditRecord) -> dict[str, int]:
        return await self._db.write(lambda conn: transaction(
            conn, lambda c: _apply(c, change, audit)))

    async def record(self, audit: AuditRecord) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: _audit(c, audit, {})))

    async def audit_log(self, subject: str | None = None) -> list[AuditRecord]:
        def run(conn: sqlite3.Connection) -> list[AuditRecord]:
            sql = "SELECT run_id, action, at, operator, subject, counts, detail FROM audit_log"
            params: list[Any] = []
            if subject is not None:
                sql += " WHERE subject=?"
                params.append(subject)
            rows = conn.execute(sql + " ORDER BY at, rowid", params).fetchall()
            return [AuditRecord(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5]),
                                orjson.loads(r[6]) if r[6] else {}) for r in rows]

        return await self._db.read(run)

    async def secret(self) -> bytes:
        def run(conn: sqlite3.Connection) -> bytes:
            conn.execute("INSERT INTO audit_secret(id, key) VALUES (1, ?) ON CONFLICT DO NOTHING",
                         (secrets.token_bytes(32),))
            key: bytes = conn.execute("SELECT key FROM audit_secret WHERE id=1").fetchone()[0]
            return key

        return await self._db.write(lambda conn: transaction(conn, run))

    async def documents_of(self, keys: Collection[str]) -> int:
        wanted = sorted(keys)
        return await self._db.read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM documents WHERE kind IN ('state', 'agent_profile') AND agent"
            f" IN ({','.join('?' * len(wanted))})", wanted).fetchone()[0])

    async def rewrite_audit(self, records: Sequence[AuditRecord]) -> None:
        rows = [(r.operator, orjson.dumps(r.detail).decode() if r.detail else None, r.run_id)
                for r in records]
        await self._db.write(lambda conn: transaction(conn, lambda c: c.executemany(
            "UPDATE audit_log SET operator=?, detail=? WHERE run_id=?", rows)))

    async def compact(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            # Deleted rows stay in free pages and in the write-ahead log until overwritten:
            # VACUUM rewrites the file without them, the checkpoint empties the log.
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        await self._db.write(run)
