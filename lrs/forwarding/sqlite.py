"""The forwarding store on SQLite: destinations, rules, and the outbox written in the commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import orjson

from aggregation.plan import OutboxItem
from lrs.forwarding import DeadLetter, Destination, DestinationStatus, Leased, Rule
from lrs.forwarding.rules import hit_record
from statements.stores.sqlite_db import SqliteDatabase, transaction

_DESTINATION = ("id", "name", "kind", "url", "secret", "username", "xapi_version", "created")


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE forwarding_destinations (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            url TEXT NOT NULL, secret TEXT NOT NULL, username TEXT NOT NULL,
            xapi_version TEXT NOT NULL, created TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_error_ms INTEGER,
            last_delivered_ms INTEGER)""")
    conn.execute("""
        CREATE TABLE forwarding_rules (
            id TEXT PRIMARY KEY, destination TEXT NOT NULL, body TEXT NOT NULL,
            created TEXT NOT NULL)""")
    # `due_ms`: not sent before; `lease_until_ms`: held by `owner` until then (0: free).
    conn.execute("""
        CREATE TABLE forwarding_outbox (
            key TEXT PRIMARY KEY, destination TEXT NOT NULL, statement_id TEXT, hit TEXT,
            created_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
            lease_until_ms INTEGER NOT NULL DEFAULT 0, owner TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
            last_error TEXT)""")
    conn.execute("CREATE INDEX forwarding_outbox_due ON forwarding_outbox(dead, due_ms)")
    conn.execute("CREATE INDEX forwarding_outbox_destination "
                 "ON forwarding_outbox(destination, dead, created_ms)")


def write_outbox_in(conn: sqlite3.Connection, items: Sequence[OutboxItem], now_ms: int) -> None:
    """Write a plan's outbox items in the caller's transaction (the batch's own commit)."""
    if items:
        conn.executemany(
            "INSERT OR IGNORE INTO forwarding_outbox(key, destination, statement_id, hit, "
            "created_ms, due_ms) VALUES (?, ?, ?, ?, ?, ?)",
            [(i.key, i.destination, i.statement_id,
              orjson.dumps(hit_record(i.hit)).decode() if i.hit is not None else None,
              now_ms, now_ms) for i in items])


def _rule_body(rule: Rule) -> str:
    body = asdict(rule)
    return orjson.dumps({k: v for k, v in body.items()
                         if k not in ("id", "destination", "created")}).decode()


class SqliteForwardingStore:
    """ForwardingStore on a SqliteDatabase. Leases are taken in a BEGIN IMMEDIATE
    transaction, which SQLite serialises across processes: no item is leased twice."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        await self._db.migrate([_schema_v1], name="forwarding")

    async def _write(self, sql: str, args: Sequence[Any] = ()) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, args).rowcount)

        return await self._db.write(lambda conn: transaction(conn, run))

    async def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._db.read(lambda conn: conn.execute(sql, args).fetchall())

    async def add_destination(self, destination: Destination) -> None:
        record = asdict(destination)
        await self._write(f"INSERT INTO forwarding_destinations({', '.join(_DESTINATION)}) "
                          f"VALUES ({', '.join('?' * len(_DESTINATION))})",
                          [record[f] for f in _DESTINATION])

    async def destinations(self) -> list[Destination]:
        rows = await self._rows(f"SELECT {', '.join(_DESTINATION)} FROM forwarding_destinations"
                                " ORDER BY created, id")
        return [Destination(**dict(zip(_DESTINATION, row, strict=True))) for row in rows]

    async def remove_destination(self, destination_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM forwarding_rules WHERE destination=?", (destination_id,))
            conn.execute("DELETE FROM forwarding_outbox WHERE destination=?", (destination_id,))
            return conn.execute("DELETE FROM forwarding_destinations WHERE id=?",
                                (destination_id,)).rowcount == 1

        return await self._db.write(lambda conn: transaction(conn, run))

    async def add_rule(self, rule: Rule) -> None:
        await self._write("INSERT INTO forwarding_rules(id, destination, body, created) "
                          "VALUES (?, ?, ?, ?)",
                          (rule.id, rule.destination, _rule_body(rule), rule.created))

    async def rules(self) -> list[Rule]:
        rows = await self._rows("SELECT id, destination, body, created FROM forwarding_rules "
                                "ORDER BY created, id")
        out = []
        for rule_id, destination, body, created in rows:
            fields = orjson.loads(body)
            out.append(Rule(rule_id, destination, fields["decision"], tuple(fields["verbs"]),
                            fields["activity"], tuple(fields["credentials"]), created))
        return out

    async def remove_rule(self, rule_id: str) -> bool:
        return await self._write("DELETE FROM forwarding_rules WHERE id=?", (rule_id,)) == 1

    async def lease(self, owner: str, *, now_ms: int, lease_ms: int, limit: int
                    ) -> list[Leased]:
        def run(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "UPDATE forwarding_outbox SET owner=?, lease_until_ms=? WHERE key IN ("
                " SELECT key FROM forwarding_outbox WHERE dead=0 AND due_ms<=? AND"
                " lease_until_ms<=? ORDER BY created_ms, key LIMIT ?) "
                "RETURNING key, destination, statement_id, hit, attempts, created_ms",
                (owner, now_ms + lease_ms, now_ms, now_ms, limit)).fetchall()

        # An idle worker asks a reader first: no write transaction each poll.
        due = await self._rows("SELECT 1 FROM forwarding_outbox WHERE dead=0 AND due_ms<=? "
                               "AND lease_until_ms<=? LIMIT 1", (now_ms, now_ms))
        if not due:
            return []
        rows = await self._db.write(lambda conn: transaction(conn, run))
        rows.sort(key=lambda row: (row[5], row[0]))
        return [Leased(key, destination, statement_id,
                       orjson.loads(hit) if hit is not None else None, attempts, created)
                for key, destination, statement_id, hit, attempts, created in rows]

    async def delivered(self, destination: str, keys: Sequence[str], owner: str, *,
                        now_ms: int) -> None:
        def run(conn: sqlite3.Connection) -> None:
            done = conn.executemany("DELETE FROM forwarding_outbox WHERE key=? AND owner=?",
                                    [(k, owner) for k in keys]).rowcount
            conn.execute("UPDATE forwarding_destinations SET delivered=delivered+?, "
                         "last_delivered_ms=? WHERE id=?", (done, now_ms, destination))

        await self._db.write(lambda conn: transaction(conn, run))

    async def failed(self, destination: str, items: Sequence[Leased], owner: str, *,
                     error: str, now_ms: int, due_ms: Sequence[int], max_attempts: int) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE forwarding_outbox SET attempts=attempts+1, dead=(attempts+1>=?), "
                "due_ms=?, lease_until_ms=0, owner=NULL, last_error=? WHERE key=? AND owner=?",
                [(max_attempts, due, error, item.key, owner)
                 for item, due in zip(items, due_ms, strict=True)])
            conn.execute("UPDATE forwarding_destinations SET last_error=?, last_error_ms=? "
                         "WHERE id=?", (error, now_ms, destination))

        await self._db.write(lambda conn: transaction(conn, run))

    async def status(self) -> list[DestinationStatus]:
        rows = await self._rows(
            "SELECT d.id, d.delivered, d.last_error, d.last_error_ms, d.last_delivered_ms,"
            " (SELECT COUNT(*) FROM forwarding_outbox o WHERE o.destination=d.id AND o.dead=0),"
            " (SELECT COUNT(*) FROM forwarding_outbox o WHERE o.destination=d.id AND o.dead=1),"
            " (SELECT MIN(created_ms) FROM forwarding_outbox o WHERE o.destination=d.id) "
            "FROM forwarding_destinations d ORDER BY d.created, d.id")
        return [DestinationStatus(d, queued, dead, oldest, delivered, error, error_ms, last)
                for d, delivered, error, error_ms, last, queued, dead, oldest in rows]

    async def dead_letters(self, destination: str, *, limit: int = 100) -> list[DeadLetter]:
        rows = await self._rows(
            "SELECT key, statement_id, attempts, created_ms, last_error, hit FROM "
            "forwarding_outbox WHERE destination=? AND dead=1 ORDER BY created_ms, key "
            "LIMIT ?", (destination, limit))
        return [DeadLetter(key, statement_id, attempts, created, error,
                           orjson.loads(hit) if hit is not None else None)
                for key, statement_id, attempts, created, error, hit in rows]

    async def replay(self, destination: str, keys: Sequence[str] | None, *, now_ms: int
                     ) -> int:
        sql = ("UPDATE forwarding_outbox SET dead=0, attempts=0, due_ms=?, lease_until_ms=0, "
               "owner=NULL WHERE destination=? AND dead=1")
        return await self._keyed(sql, [now_ms, destination], keys)

    async def discard(self, destination: str, keys: Sequence[str] | None) -> int:
        return await self._keyed("DELETE FROM forwarding_outbox WHERE destination=? AND dead=1",
                                 [destination], keys)

    async def _keyed(self, sql: str, args: list[Any], keys: Sequence[str] | None) -> int:
        if keys is None:
            return await self._write(sql, args)

        def run(conn: sqlite3.Connection) -> int:
            return sum(conn.execute(f"{sql} AND key=?", [*args, key]).rowcount for key in keys)

        return await self._db.write(lambda conn: transaction(conn, run))
