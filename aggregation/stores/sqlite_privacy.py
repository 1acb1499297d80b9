"""Differential privacy's tables on SQLite (aggregation.privacy): each learner's
contributions in the open key period, and the releases, each drawn once."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from statements.stores.sqlite_db import SqliteDatabase, run_script, transaction


def dp_schema(conn: sqlite3.Connection) -> None:
    # Differential privacy (aggregation.privacy): each learner's contributions in the open
    # key period, under keyed digests deleted with the period's key; and the releases, each
    # drawn once, whose epsilons add up to each day's spent budget.
    run_script(conn, """
        CREATE TABLE dp_contributions (
            period INTEGER NOT NULL, digest BLOB NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (period, digest)
        ) WITHOUT ROWID;
        CREATE TABLE dp_releases (
            key TEXT PRIMARY KEY, day INTEGER NOT NULL, epsilon REAL NOT NULL,
            value TEXT NOT NULL
        );
        CREATE INDEX dp_releases_day ON dp_releases(day)
    """)


def bound_in(conn: sqlite3.Connection, period: int, pairs: Sequence[tuple[bytes, bytes]],
             per_bucket: int, buckets: int) -> list[bool]:
    """For each (learner, learner-and-activity) digest pair, whether its hit is counted
    (True) or clipped, counting it against the learner's bounds of the period."""
    counted = []
    for person, pair in pairs:
        row = conn.execute("SELECT n FROM dp_contributions WHERE period=? AND digest=?",
                           (period, pair)).fetchone()
        if row is not None:
            ok = row[0] < per_bucket
            if ok:
                conn.execute("UPDATE dp_contributions SET n = n + 1 WHERE period=? AND"
                             " digest=?", (period, pair))
        else:
            had = conn.execute("SELECT n FROM dp_contributions WHERE period=? AND digest=?",
                               (period, person)).fetchone()
            ok = had is None or had[0] < buckets
            if ok:
                conn.execute("INSERT INTO dp_contributions VALUES (?,?,1) ON CONFLICT DO"
                             " UPDATE SET n = n + 1", (period, person))
                conn.execute("INSERT INTO dp_contributions VALUES (?,?,1)", (period, pair))
        counted.append(ok)
    return counted


class SqliteReleases:
    """The TallyStore's differential-privacy methods (SqliteTallyStore inherits them)."""

    _db: SqliteDatabase

    async def bound_contributions(self, period: int, pairs: Sequence[tuple[bytes, bytes]],
                                  *, per_bucket: int, buckets: int) -> list[bool]:
        return await self._db.write(lambda conn: transaction(
            conn, lambda c: bound_in(c, period, pairs, per_bucket, buckets)))

    async def released(self, keys: Collection[str]) -> dict[str, Any]:
        wanted = sorted(keys)

        def run(conn: sqlite3.Connection) -> dict[str, Any]:
            found: dict[str, Any] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found.update((k, orjson.loads(v)) for k, v in conn.execute(
                    f"SELECT key, value FROM dp_releases WHERE key IN"
                    f" ({','.join('?' * len(chunk))})", chunk))
            return found

        return await self._db.read(run)

    async def release(self, key: str, day: int, epsilon: float, budget: float, value: Any
                      ) -> Any | None:
        def run(conn: sqlite3.Connection) -> Any | None:
            row = conn.execute("SELECT value FROM dp_releases WHERE key=?", (key,)).fetchone()
            if row is not None:
                return orjson.loads(row[0])  # released by another request: that figure
            (spent,) = conn.execute("SELECT COALESCE(SUM(epsilon), 0) FROM dp_releases"
                                    " WHERE day=?", (day,)).fetchone()
            if spent + epsilon > budget * (1 + 1e-9):
                return None
            conn.execute("INSERT INTO dp_releases VALUES (?,?,?,?)",
                         (key, day, epsilon, orjson.dumps(value).decode()))
            return value

        return await self._db.write(lambda conn: transaction(conn, run))

    async def spent(self, first_day: int, last_day: int) -> dict[int, float]:
        return await self._db.read(lambda conn: {day: float(total) for day, total in conn.execute(
            "SELECT day, SUM(epsilon) FROM dp_releases WHERE day BETWEEN ? AND ? GROUP BY day",
            (first_day, last_day))})
