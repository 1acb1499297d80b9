"""Compliance reads on SQLite: a side table of the statements about activities, kept by triggers.

`compliance_results` holds one row per (statement, agent): a kept statement whose object is
an Activity (with or without a `result`; before schema v3 only those with one), for each
agent key of its actor. `completed` is the result's own word (completion or success true);
the report judges each statement by its catalogue entry's rule. The code
that writes a statement's index rows writes its result rows (`result_rows`, from the parsed
statement); triggers on the statement tables empty it, so whatever deletes statements
(purges, erasure) keeps it true without knowing it exists. Its key (activity, agent,
timestamp desc, seq desc) yields a report in order, page by page.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

from statements.compliance import ResultRow, Target, Window
from statements.indexing import StatementIndex
from statements.stores.sqlite_db import SqliteDatabase

_BODY = "CAST(s.body AS TEXT)"  # the JSON functions read text; bodies are stored as BLOBs
# The result rows of statement_agents rows named `{a}` (NEW in a trigger). The body is parsed
# once, for [timestamp, result]; the rest is read from that small array.
_SELECT_RESULT = f"""
    SELECT activity, agent, json_extract(r, '$[0]'), seq,
           coalesce(json_extract(r, '$[1].completion'), 0) = 1
           OR coalesce(json_extract(r, '$[1].success'), 0) = 1
    FROM (SELECT s.activity AS activity, {{a}}.agent AS agent, s.seq AS seq,
                 json_extract({_BODY}, '$.timestamp', '$.result') AS r
          FROM statements s {{join}}
          WHERE s.seq = {{a}}.seq AND {{a}}.direct = 1 AND s.activity IS NOT NULL
            AND s.voiding = 0)
    WHERE json_type(r, '$[1]') = 'object'
"""


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE compliance_results (
            activity TEXT NOT NULL,
            agent TEXT NOT NULL,
            ts TEXT NOT NULL,
            seq INTEGER NOT NULL,
            completed INTEGER NOT NULL,
            PRIMARY KEY (activity, agent, ts DESC, seq DESC)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX compliance_results_agent"
                 " ON compliance_results(agent, activity, ts DESC, seq DESC)")
    conn.execute("CREATE INDEX compliance_results_seq ON compliance_results(seq)")
    # statement_agents rows are written after their statement, in the same transaction; a
    # direct one is the actor (or, never with an Activity object, the object).
    conn.execute(f"""
        CREATE TRIGGER compliance_results_insert AFTER INSERT ON statement_agents
        WHEN NEW.direct = 1 BEGIN
            INSERT OR IGNORE INTO compliance_results(activity, agent, ts, seq, completed)
            {_SELECT_RESULT.format(a="NEW", join="")};
        END""")
    conn.execute("""
        CREATE TRIGGER compliance_results_delete AFTER DELETE ON statements BEGIN
            DELETE FROM compliance_results WHERE seq = OLD.seq;
        END""")
    conn.execute("""
        CREATE TRIGGER compliance_results_agent_delete AFTER DELETE ON statement_agents BEGIN
            DELETE FROM compliance_results WHERE seq = OLD.seq AND agent = OLD.agent;
        END""")
    # Statements stored before this table existed.
    conn.execute(f"""
        INSERT OR IGNORE INTO compliance_results(activity, agent, ts, seq, completed)
        {_SELECT_RESULT.format(a="a", join="JOIN statement_agents a ON a.seq = s.seq")}""")


def _schema_v2(conn: sqlite3.Connection) -> None:
    # The rows of new statements are written by the code that stores them (result_rows):
    # the trigger parsed each stored body again, a fifth of a kept statement's write.
    conn.execute("DROP TRIGGER compliance_results_insert")


# Every kept statement about an activity (v3): the result-less ones too (a `completed`
# without a result completes the activity), with `completed` 0 when there is no result.
_SELECT_ROWS = f"""
    SELECT s.activity, {{a}}.agent, json_extract({_BODY}, '$.timestamp'), s.seq,
           coalesce(json_extract({_BODY}, '$.result.completion'), 0) = 1
           OR coalesce(json_extract({_BODY}, '$.result.success'), 0) = 1
    FROM statements s {{join}}
    WHERE s.seq = {{a}}.seq AND {{a}}.direct = 1 AND s.activity IS NOT NULL AND s.voiding = 0
"""


def _schema_v3(conn: sqlite3.Connection) -> None:
    conn.execute(f"""
        INSERT OR IGNORE INTO compliance_results(activity, agent, ts, seq, completed)
        {_SELECT_ROWS.format(a="a", join="JOIN statement_agents a ON a.seq = s.seq")}""")


MIGRATIONS = [_schema_v1, _schema_v2, _schema_v3]
INSERT_RESULTS = ("INSERT OR IGNORE INTO compliance_results(activity, agent, ts, seq, completed)"
                  " VALUES (?,?,?,?,?)")


def result_rows(seq: int, statement: dict[str, Any], index: StatementIndex
                ) -> list[tuple[str, str, str, int, int]]:
    """The compliance_results rows of a statement stored as `seq`: none unless its object
    is an Activity and it is not a voiding statement; else one per agent key of its actor,
    completed when it has a result saying completion or success is true."""
    if index.activity is None or index.voiding:
        return []
    result = statement.get("result")
    result = result if isinstance(result, dict) else {}
    completed = int(result.get("completion") is True or result.get("success") is True)
    return [(index.activity, agent, statement["timestamp"], seq, completed)
            for agent in index.agents]
GROUPS_PER_PAGE = 500
AGENTS_PER_PAGE = 500
_ROW = ("SELECT c.activity, c.agent, c.ts, s.id, c.completed, s.body"
        " FROM compliance_results c JOIN statements s ON s.seq = c.seq")


def _window(window: Window) -> tuple[str, list[Any]]:
    # Communication §2.1.4.s1.b1: voided statements are never reported.
    clauses, params = ["s.voided = 0"], []
    if window.since is not None:
        clauses.append("c.ts > ?")
        params.append(window.since)
    if window.until is not None:
        clauses.append("c.ts <= ?")
        params.append(window.until)
    return " AND ".join(clauses), params


class SqliteComplianceStore:
    """ComplianceStore on a SqliteDatabase (after the statement store has migrated)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create the side table and its triggers, filled from the statements held (the
        statement store's open has done it already: it writes the table)."""
        await self._db.migrate(MIGRATIONS, name="compliance")

    async def results(self, target: Target, window: Window, *,
                      agents: Sequence[str] | None = None) -> AsyncIterator[ResultRow]:
        if agents is not None:
            for start in range(0, len(agents), AGENTS_PER_PAGE):
                chunk = agents[start:start + AGENTS_PER_PAGE]
                for row in await self._db.read(functools.partial(
                        _agents_page, target=target, window=window, agents=chunk)):
                    yield row
            return
        low, high = target.bounds()
        after: tuple[str, str] | None = None
        while True:
            rows, after = await self._db.read(functools.partial(
                _groups_page, low=low, high=high, window=window, after=after))
            for row in rows:
                yield row
            if after is None:
                return


def _groups_page(conn: sqlite3.Connection, low: str, high: str, window: Window,
                 after: tuple[str, str] | None) -> tuple[list[ResultRow], tuple[str, str] | None]:
    """The rows of the next GROUPS_PER_PAGE (activity, agent) groups, and the last group
    read (None at the end): two range reads of the table's key."""
    start, start_params = ("(c.activity, c.agent) > (?, ?)", list(after)) if after \
        else ("c.activity >= ?", [low])
    groups = conn.execute(
        f"SELECT DISTINCT c.activity, c.agent FROM compliance_results c WHERE {start}"
        f" AND c.activity < ? ORDER BY c.activity, c.agent LIMIT {GROUPS_PER_PAGE}",
        [*start_params, high]).fetchall()
    if not groups:
        return [], None
    last = tuple(groups[-1])
    where, params = _window(window)
    rows = conn.execute(
        f"{_ROW} WHERE {start} AND (c.activity, c.agent) <= (?, ?) AND {where}"
        " ORDER BY c.activity, c.agent, c.ts DESC, c.seq DESC",
        [*start_params, *last, *params]).fetchall()
    more = len(groups) == GROUPS_PER_PAGE
    return [ResultRow(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows], \
        (last[0], last[1]) if more else None


def _agents_page(conn: sqlite3.Connection, target: Target, window: Window,
                 agents: Sequence[str]) -> list[ResultRow]:
    low, high = target.bounds()
    where, params = _window(window)
    rows = conn.execute(
        f"{_ROW} WHERE c.agent IN ({','.join('?' * len(agents))}) AND c.activity >= ?"
        f" AND c.activity < ? AND {where}"
        " ORDER BY c.agent, c.activity, c.ts DESC, c.seq DESC",
        [*agents, low, high, *params]).fetchall()
    return [ResultRow(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]
