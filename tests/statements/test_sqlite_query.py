"""SQLite query translation: a pure function, checked as text and by SQLite's planner."""

from __future__ import annotations

import sqlite3

import pytest

from statements.query import StatementQuery
from statements.stores.sqlite import MIGRATIONS, build_query


@pytest.fixture(scope="module")
def schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        migration(conn)
    return conn


def test_build_query_without_filters_reads_in_stored_order() -> None:
    sql, params = build_query(StatementQuery(limit=10), fetch=11)
    assert "WITH RECURSIVE" not in sql and "ORDER BY s.stored DESC, s.seq DESC LIMIT 11" in sql
    assert params == []


def test_build_query_window_and_cursor_parameters_in_order() -> None:
    query = StatementQuery(limit=5, since_ms=10, until_ms=20, ascending=True, after=(15, 7),
                           authority="account:http://lrs|k")
    sql, params = build_query(query, fetch=6)
    assert "(s.stored, s.seq) > (?, ?)" in sql and "ASC" in sql
    assert params == [10, 20, "account:http://lrs|k", 15, 7]


def test_build_query_filters_apply_to_both_halves_of_statement_ref_targeting() -> None:
    query = StatementQuery(agent="mbox:mailto:a@e.com", verb="http://v", limit=5)
    sql, params = build_query(query, fetch=6)
    assert "WITH RECURSIVE referring" in sql and "direct=1" in sql
    # The filter values feed the recursion's seed and the direct match; the window follows.
    assert params == ["mbox:mailto:a@e.com", "http://v"] * 2


def test_build_query_related_filters_use_the_side_tables() -> None:
    sql, _ = build_query(StatementQuery(agent="k", related_agents=True, activity="http://a",
                                        related_activities=True, limit=1), fetch=2)
    assert "direct=1" not in sql and "statement_activities" in sql


@pytest.mark.parametrize(("query", "index"), [
    (StatementQuery(agent="k", limit=10), "SEARCH a USING PRIMARY KEY (agent=?)"),
    (StatementQuery(activity="http://a", related_activities=True, limit=10),
     "SEARCH x USING PRIMARY KEY (activity=?)"),
    (StatementQuery(verb="http://v", limit=10), "statements_verb"),
    (StatementQuery(registration="r", limit=10), "statements_registration"),
    (StatementQuery(activity="http://a", limit=10), "statements_activity"),
    (StatementQuery(limit=10), "statements_stored"),
])
def test_build_query_is_answered_from_an_index(schema: sqlite3.Connection,
                                               query: StatementQuery, index: str) -> None:
    sql, params = build_query(query, fetch=11)
    plan = " ".join(str(row) for row in schema.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert index in plan
    assert "'SCAN s')" not in plan  # never a full table scan
    # The matches come in the index's order: the page itself is never sorted (only the
    # union of at most two pages, for StatementRef targeting, is).
    rows = [row[3] for row in schema.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    first_page = rows[: next((i for i, r in enumerate(rows) if r.startswith("SCAN (sub")),
                             len(rows))]
    assert "USE TEMP B-TREE FOR ORDER BY" not in first_page


@pytest.mark.parametrize("query", [
    StatementQuery(verb="http://v", limit=10),
    StatementQuery(agent="k", limit=10),
    StatementQuery(agent="k", related_agents=True, activity="http://a",
                   related_activities=True, limit=10),
    StatementQuery(registration="r", activity="http://a", limit=10),
])
def test_statement_ref_targeting_is_seeded_from_the_referenced_statements(
    schema: sqlite3.Connection, query: StatementQuery,
) -> None:
    # Communication §2.1.3.s3: the recursion's seed reads the referenced statements (few),
    # never every statement that matches the filters (at 1,000,000 statements, a common verb
    # matches hundreds of thousands).
    sql, params = build_query(query, fetch=11)
    rows = [row[3] for row in schema.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    seed = rows[rows.index("SETUP"):rows.index("RECURSIVE STEP")]
    searches = [r for r in seed if r.startswith(("SEARCH", "SCAN"))]
    assert searches[:3] == [
        "SEARCH statements USING COVERING INDEX statements_ref_target (ref_target>?)",
        "SCAN t", "SEARCH s USING INDEX sqlite_autoindex_statements_1 (id=?)"]
    assert not any(("statements_verb" in r or "statements_registration" in r
                    or "statements_activity" in r) for r in seed)
