"""The statement store on SQLite: JSON bodies, indexed columns and side tables per filter."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from statements.attachments import RawAttachment
from statements.enrich import StoredStatement
from statements.plan import Held, StatementPlan, plan_statements
from statements.query import StatementQuery
from statements.store import SaveOutcome, StatementPage
from statements.stores.sqlite_compliance import INSERT_RESULTS, result_rows
from statements.stores.sqlite_compliance import MIGRATIONS as COMPLIANCE_MIGRATIONS
from statements.stores.sqlite_db import SqliteDatabase, run_script, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    # statement_agents: one row per (statement, agent key); direct=1 for the actor and
    # object, 0 for the places only related_agents reaches.
    run_script(conn, """
        CREATE TABLE statements (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            stored INTEGER NOT NULL,
            verb TEXT NOT NULL,
            activity TEXT,
            registration TEXT,
            ref_target TEXT,
            voiding INTEGER NOT NULL,
            voided INTEGER NOT NULL DEFAULT 0,
            authority TEXT,
            hash TEXT NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX statements_stored ON statements(stored);
        CREATE INDEX statements_verb ON statements(verb, stored);
        CREATE INDEX statements_activity ON statements(activity, stored)
            WHERE activity IS NOT NULL;
        CREATE INDEX statements_registration ON statements(registration, stored)
            WHERE registration IS NOT NULL;
        CREATE INDEX statements_ref_target ON statements(ref_target)
            WHERE ref_target IS NOT NULL;
        CREATE INDEX statements_authority ON statements(authority, stored);
        CREATE TABLE statement_agents (
            agent TEXT NOT NULL,
            stored INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            direct INTEGER NOT NULL,
            PRIMARY KEY (agent, stored, seq)
        ) WITHOUT ROWID;
        CREATE TABLE statement_activities (
            activity TEXT NOT NULL,
            stored INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (activity, stored, seq)
        ) WITHOUT ROWID;
    """)


def _schema_v2(conn: sqlite3.Connection) -> None:
    # One copy of each attachment's bytes, whatever number of statements share it.
    conn.execute("CREATE TABLE attachments (sha2 TEXT PRIMARY KEY, content_type TEXT NOT NULL,"
                 " data BLOB NOT NULL) WITHOUT ROWID")


MIGRATIONS = [_schema_v1, _schema_v2]
_COLUMNS = "s.seq, s.stored, s.body"


def build_query(query: StatementQuery, *, fetch: int) -> tuple[str, list[Any]]:
    """Translate a StatementQuery into SQL and parameters (pure; tested without a database).

    Rows come back as (seq, stored, body), `fetch` of them at most, ordered by
    (stored, seq) descending unless `ascending`. An agent or related-activity filter drives
    the query from its side table, whose key (value, stored, seq) yields the matches already
    in order: a page reads `fetch` rows, not every match.
    """
    source, driver = "statements s", "s"
    filters: list[str] = []
    params: list[Any] = []
    # The same filters on one referenced statement `s`, for the StatementRef seed below.
    seed: list[str] = []
    if query.agent is not None:
        source, driver = "statement_agents a JOIN statements s ON s.seq = a.seq", "a"
        direct = "" if query.related_agents else " AND a.direct=1"
        filters.append(f"a.agent=?{direct}")
        seed.append("EXISTS (SELECT 1 FROM statement_agents a WHERE a.agent=? AND"
                    f" a.stored=s.stored AND a.seq=s.seq{direct})")
        params.append(query.agent)
    if query.verb is not None:
        filters.append("s.verb=?")
        seed.append("s.verb=?")
        params.append(query.verb)
    if query.activity is not None:
        if not query.related_activities:
            filters.append("s.activity=?")
        elif driver == "s":
            source, driver = "statement_activities x JOIN statements s ON s.seq = x.seq", "x"
            filters.append("x.activity=?")
        else:
            filters.append("s.seq IN (SELECT seq FROM statement_activities WHERE activity=?)")
        seed.append("s.activity=?" if not query.related_activities else
                    "EXISTS (SELECT 1 FROM statement_activities x WHERE x.activity=? AND"
                    " x.stored=s.stored AND x.seq=s.seq)")
        params.append(query.activity)
    if query.registration is not None:
        filters.append("s.registration=?")
        seed.append("s.registration=?")
        params.append(query.registration)
    order = "ASC" if query.ascending else "DESC"
    window, window_params = _window(query, driver)
    tail = f"ORDER BY {driver}.stored {order}, {driver}.seq {order} LIMIT {int(fetch)}"
    where_f = " AND ".join(filters)
    if not filters:
        return f"SELECT {_COLUMNS} FROM statements s WHERE {window} {tail}", window_params
    # Communication §2.1.3.s3: a statement whose object is a StatementRef also matches when
    # its target does, recursively. The recursion is seeded from the referenced statements
    # (CROSS JOIN keeps them the outer loop), each tested against the filters, so its cost
    # is bounded by how many statements are referenced, not by how many match.
    referring_window, referring_params = _window(query, "s")
    sql = f"""
        WITH RECURSIVE referring(id) AS (
            SELECT s.id
            FROM (SELECT DISTINCT ref_target AS id FROM statements
                  WHERE ref_target IS NOT NULL) t
            CROSS JOIN statements s ON s.id = t.id
            WHERE {" AND ".join(seed)}
            UNION
            SELECT r.id FROM statements r JOIN referring m ON r.ref_target = m.id
        )
        SELECT * FROM (SELECT {_COLUMNS} FROM {source} WHERE {where_f} AND {window} {tail})
        UNION
        SELECT * FROM (SELECT {_COLUMNS} FROM statements s
                       WHERE s.id IN (SELECT id FROM referring) AND {referring_window}
                       ORDER BY s.stored {order}, s.seq {order} LIMIT {int(fetch)})
        ORDER BY 2 {order}, 1 {order} LIMIT {int(fetch)}
    """
    return sql, params + params + window_params + referring_params


def _window(query: StatementQuery, alias: str) -> tuple[str, list[Any]]:
    """The time window, voiding, authority and cursor conditions; `stored` and `seq` are
    read from `alias` (the table whose key orders the page)."""
    window = ["s.voided=0"]  # Communication §2.1.4.s1.b1: voided statements never listed
    params: list[Any] = []
    if query.since_ms is not None:
        window.append(f"{alias}.stored>?")
        params.append(query.since_ms)
    if query.until_ms is not None:
        window.append(f"{alias}.stored<=?")
        params.append(query.until_ms)
    if query.authority is not None:
        window.append("s.authority=?")
        params.append(query.authority)
    if query.mine is not None:
        # The learner's statements as actor are few: the subquery is read once, by its key.
        window.append("(s.authority=? OR s.seq IN "
                      "(SELECT seq FROM statement_agents WHERE agent=? AND direct=1))")
        params.extend((query.mine, query.mine))
    if query.after is not None:
        op = ">" if query.ascending else "<"
        window.append(f"({alias}.stored, {alias}.seq) {op} (?, ?)")
        params.extend(query.after)
    return " AND ".join(window), params


class SqliteStatementStore:
    """StatementStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema, and the compliance side table it writes."""
        await self._db.migrate(MIGRATIONS, name="statements")
        await self._db.migrate(COMPLIANCE_MIGRATIONS, name="compliance")

    async def save(self, statements: Sequence[StoredStatement],
                   attachments: Sequence[RawAttachment] = ()) -> SaveOutcome:
        return await self._db.write(lambda conn: transaction(
            conn, lambda c: save_in(c, statements, attachments)))

    async def get_attachments(self, sha2s: Collection[str]) -> list[RawAttachment]:
        wanted = sorted(sha2s)

        def run(conn: sqlite3.Connection) -> list[RawAttachment]:
            found: list[RawAttachment] = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found += [RawAttachment(*row) for row in conn.execute(
                    "SELECT sha2, content_type, data FROM attachments WHERE sha2 IN "
                    f"({','.join('?' * len(chunk))})", chunk)]
            return found

        return await self._db.read(run)

    async def get(self, statement_id: str, *, voided: bool) -> bytes | None:
        def run(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT body FROM statements WHERE id=? AND voided=?",
                (statement_id, int(voided)),
            ).fetchone()
            return row[0] if row else None

        return await self._db.read(run)

    async def query(self, query: StatementQuery) -> StatementPage:
        sql, params = build_query(query, fetch=query.limit + 1)

        def run(conn: sqlite3.Connection) -> list[tuple[int, int, bytes]]:
            return conn.execute(sql, params).fetchall()

        rows = await self._db.read(run)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        return StatementPage(
            statements=[row[2] for row in rows],
            after=(rows[-1][1], rows[-1][0]) if more else None,
            last_stored_ms=max((row[1] for row in rows), default=None),
        )

    async def close(self) -> None:
        await self._db.close()


def held_hashes(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> dict[str, str]:
    """id → content hash of the ids among `ids` that `table` (with id and hash) holds."""
    held: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        held.update(conn.execute(
            f"SELECT id, hash FROM {table} WHERE id IN ({marks})", chunk).fetchall())
    return held


def held_in(conn: sqlite3.Connection, ids: Sequence[str], targets: Sequence[str],
            voidable: Sequence[str] | None = None) -> Held:
    """What the statements table holds about a batch (`statements.plan.Held`, kept side):
    the hashes of `ids` held, which of `voidable` (the ids to keep; by default all of
    `ids`) a stored voiding statement targets, and the `targets` held."""
    kept = held_hashes(conn, "statements", ids)
    fresh = [i for i in (ids if voidable is None else voidable) if i not in kept]
    voided_before: set[str] = set()
    for start in range(0, len(fresh), 500):
        chunk = fresh[start:start + 500]
        voided_before.update(row[0] for row in conn.execute(
            "SELECT ref_target FROM statements WHERE voiding=1 AND ref_target IN"
            f" ({','.join('?' * len(chunk))})", chunk))
    found: dict[str, bool] = {}
    for start in range(0, len(targets), 500):
        chunk = list(targets[start:start + 500])
        found.update((i, bool(v)) for i, v in conn.execute(
            f"SELECT id, voiding FROM statements WHERE id IN ({','.join('?' * len(chunk))})",
            chunk))
    return Held(kept=kept, voided_before=frozenset(voided_before), targets=found)


def write_in(conn: sqlite3.Connection, plan: StatementPlan,
             attachments: Sequence[RawAttachment]) -> None:
    """Write a StatementPlan inside the caller's transaction (the engine's commit)."""
    for statement in plan.insert:
        index = statement.index
        seq = conn.execute(
            "INSERT INTO statements(id, stored, verb, activity, registration, ref_target,"
            " voiding, voided, authority, hash, body) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (statement.id, statement.stored_ms, index.verb, index.activity,
             index.registration, index.ref_target, int(index.voiding),
             int(statement.id in plan.voided_on_arrival), index.authority,
             statement.content_hash, orjson.dumps(statement.statement)),
        ).lastrowid
        assert seq is not None  # set by the INSERT
        conn.executemany(
            "INSERT INTO statement_agents(agent, stored, seq, direct) VALUES (?,?,?,?)",
            [(key, statement.stored_ms, seq, int(key in index.agents))
             for key in index.related_agents],
        )
        conn.executemany(
            "INSERT INTO statement_activities(activity, stored, seq) VALUES (?,?,?)",
            [(key, statement.stored_ms, seq) for key in index.related_activities],
        )
        conn.executemany(INSERT_RESULTS, result_rows(seq, statement.statement, index))
    conn.executemany("UPDATE statements SET voided=1 WHERE id=?", [(t,) for t in plan.void])
    conn.executemany(
        "INSERT INTO attachments(sha2, content_type, data) VALUES (?,?,?)"
        " ON CONFLICT(sha2) DO NOTHING", [(a.sha2, a.content_type, a.data) for a in attachments])


def save_in(conn: sqlite3.Connection, statements: Sequence[StoredStatement],
            attachments: Sequence[RawAttachment]) -> SaveOutcome:
    """StatementStore.save inside the caller's transaction: the plan of kept statements
    only (a store without a tally), written."""
    targets = sorted({s.voids for s in statements if s.voids})
    plan = plan_statements(statements, held_in(conn, [s.id for s in statements], targets))
    write_in(conn, plan, attachments if plan.insert else ())
    return SaveOutcome([s.id for s in plan.insert])
