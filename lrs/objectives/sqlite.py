"""The framework store (lrs.objectives.FrameworkStore) on SQLite: tables `frameworks` (each
framework whole, as JSON), `framework_objectives` (which framework holds which objective
IRI) and `framework_groups` (the assignment)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

import orjson

from lrs.objectives import Assignment, Framework, Objective
from lrs.objectives.records import framework_from_record, framework_to_record
from statements.stores.sqlite_db import SqliteDatabase, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE frameworks (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
                 "body BLOB NOT NULL)")
    conn.execute("CREATE TABLE framework_objectives (framework TEXT NOT NULL, "
                 "iri TEXT NOT NULL, PRIMARY KEY (framework, iri)) WITHOUT ROWID")
    conn.execute("CREATE INDEX framework_objectives_iri ON framework_objectives(iri)")
    conn.execute("CREATE TABLE framework_groups (framework TEXT NOT NULL, "
                 "grp TEXT NOT NULL, PRIMARY KEY (framework, grp)) WITHOUT ROWID")
    conn.execute("CREATE INDEX framework_groups_grp ON framework_groups(grp)")


def _frameworks(conn: sqlite3.Connection, where: str = "", args: tuple[str, ...] = ()
                ) -> list[Framework]:
    return [framework_from_record(orjson.loads(body)) for (body,) in conn.execute(
        f"SELECT body FROM frameworks {where} ORDER BY title, id", args)]


class SqliteFrameworkStore:
    """FrameworkStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the tables."""
        await self._db.migrate([_schema_v1], name="frameworks")

    async def put(self, framework: Framework) -> bool:
        body = orjson.dumps(framework_to_record(framework))

        def run(conn: sqlite3.Connection) -> bool:
            new = conn.execute("SELECT 1 FROM frameworks WHERE id=?",
                               (framework.id,)).fetchone() is None
            conn.execute("INSERT OR REPLACE INTO frameworks(id, title, body) VALUES (?,?,?)",
                         (framework.id, framework.title, body))
            conn.execute("DELETE FROM framework_objectives WHERE framework=?", (framework.id,))
            conn.executemany("INSERT INTO framework_objectives(framework, iri) VALUES (?,?)",
                             [(framework.id, o.iri) for o in framework.objectives])
            return new

        return await self._db.write(lambda conn: transaction(conn, run))

    async def get(self, framework_id: str) -> Framework | None:
        def run(conn: sqlite3.Connection) -> Framework | None:
            found = _frameworks(conn, "WHERE id=?", (framework_id,))
            return found[0] if found else None

        return await self._db.read(run)

    async def all(self) -> list[Framework]:
        return await self._db.read(_frameworks)

    async def delete(self, framework_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM framework_objectives WHERE framework=?", (framework_id,))
            conn.execute("DELETE FROM framework_groups WHERE framework=?", (framework_id,))
            return conn.execute("DELETE FROM frameworks WHERE id=?",
                                (framework_id,)).rowcount == 1

        return await self._db.write(lambda conn: transaction(conn, run))

    async def assign(self, framework_id: str, groups: Collection[str]) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM frameworks WHERE id=?",
                            (framework_id,)).fetchone() is None:
                return False
            conn.execute("DELETE FROM framework_groups WHERE framework=?", (framework_id,))
            conn.executemany("INSERT INTO framework_groups(framework, grp) VALUES (?,?)",
                             [(framework_id, g) for g in sorted(set(groups))])
            return True

        return await self._db.write(lambda conn: transaction(conn, run))

    async def assignments(self) -> list[Assignment]:
        def run(conn: sqlite3.Connection) -> list[Assignment]:
            groups: dict[str, set[str]] = {i: set() for (i,) in conn.execute(
                "SELECT id FROM frameworks")}
            for framework, group in conn.execute(
                    "SELECT framework, grp FROM framework_groups"):
                groups.setdefault(framework, set()).add(group)
            return [Assignment(f, frozenset(g)) for f, g in sorted(groups.items())]

        return await self._db.read(run)

    async def assigned_to(self, groups: Collection[str]) -> list[Framework]:
        wanted = sorted(set(groups))
        if not wanted:
            return []

        def run(conn: sqlite3.Connection) -> list[Framework]:
            marks = ",".join("?" * len(wanted))
            return _frameworks(conn, "WHERE id IN (SELECT framework FROM framework_groups "
                               f"WHERE grp IN ({marks}))", tuple(wanted))

        return await self._db.read(run)

    async def find_objective(self, iri: str) -> list[tuple[Framework, Objective]]:
        def run(conn: sqlite3.Connection) -> list[Framework]:
            return _frameworks(conn, "WHERE id IN (SELECT framework FROM "
                               "framework_objectives WHERE iri=?)", (iri,))

        found = await self._db.read(run)
        return [(f, o) for f in found if (o := f.objective(iri)) is not None]
