"""The compliance store: its indexes on each engine, its SQLite migration and triggers."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lrs.config import Settings
from lrs.storage import Storage, open_storage
from statements.compliance import ReportRow, Target, Window, report
from statements.enrich import enrich
from statements.stores import sqlite_compliance
from statements.stores.mongo_compliance import results_pipeline
from statements.stores.sqlite import MIGRATIONS as STATEMENT_MIGRATIONS
from statements.stores.sqlite import SqliteStatementStore
from statements.stores.sqlite_db import SqliteDatabase
from statements.versions import XapiVersion
from tests.factories import COURSE, make_agent, make_statement

AUTHORITY = {"objectType": "Agent", "mbox": "mailto:lrs@example.com"}


def stored(statement: dict[str, Any]) -> Any:
    return enrich(statement, statement_id=statement["id"], stored=datetime.now(UTC),
                  authority=AUTHORITY, version=XapiVersion.V2)


COURSE_TARGET = Target(activity=COURSE)


async def rows(storage: Storage, target: Target = COURSE_TARGET) -> list[ReportRow]:
    return [row async for row in report(storage.compliance, "e", target, Window())]


@pytest.fixture(scope="module")
def schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for migration in [*STATEMENT_MIGRATIONS, *sqlite_compliance.MIGRATIONS]:
        migration(conn)
    return conn


def plans_of(conn: sqlite3.Connection, work: Any) -> list[str]:
    """The query plans of every statement `work` runs on `conn`."""
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        work(conn)
    finally:
        conn.set_trace_callback(None)
    return [" / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in executed]


@pytest.mark.parametrize("target", [Target(activity=COURSE), Target(prefix="http://e.com/")])
def test_sqlite_report_pages_read_the_side_tables_key_in_order(
        schema: sqlite3.Connection, target: Target) -> None:
    low, high = target.bounds()
    window = Window(since="2025-01-01T00:00:00.000Z", until="2026-01-01T00:00:00.000Z")
    for after in (None, ("http://e.com/a", "mbox:mailto:a@e.com")):
        plans = plans_of(schema, lambda c, after=after: sqlite_compliance._groups_page(
            c, low=low, high=high, window=window, after=after))
        assert len(plans) == 1  # an empty table: no second read
        assert "USING COVERING INDEX sqlite_autoindex" in plans[0] or \
            "USING PRIMARY KEY" in plans[0], plans[0]
        assert "TEMP B-TREE" not in plans[0], plans[0]


def test_sqlite_report_rows_and_roster_reads_use_indexes(schema: sqlite3.Connection) -> None:
    schema.execute("INSERT INTO compliance_results VALUES ('http://a', 'k', 't', 1, 1)")
    try:
        plans = plans_of(schema, lambda c: sqlite_compliance._groups_page(
            c, low="http://a", high="http://a\x00", window=Window(), after=None))
        assert len(plans) == 2
        assert "TEMP B-TREE" not in plans[1] and "PRIMARY KEY" in plans[1], plans[1]
        assert "SEARCH s USING INTEGER PRIMARY KEY" in plans[1], plans[1]
        roster = plans_of(schema, lambda c: sqlite_compliance._agents_page(
            c, Target(activity="http://a"), Window(), ["k", "l"]))
        assert "compliance_results_agent" in roster[0] or "PRIMARY KEY" in roster[0], roster
    finally:
        schema.execute("DELETE FROM compliance_results")


def test_mongo_report_pipeline_matches_on_the_indexed_fields_first() -> None:
    window = Window(since="2025-01-01T00:00:00.000Z")
    exact = results_pipeline(Target(activity=COURSE), window, None)
    assert exact[0]["$match"]["activity"] == COURSE
    assert exact[0]["$match"]["voided"] is False
    assert exact[0]["$match"]["statement.timestamp"] == {"$gt": window.since}
    assert list(exact[-1]["$sort"]) == ["activity", "agents", "ts", "_id"]
    prefix = results_pipeline(Target(prefix="http://e.com/"), Window(), ["k"])
    assert prefix[0]["$match"]["activity"] == {"$gte": "http://e.com/",
                                               "$lt": "http://e.com/\U0010ffff"}
    assert prefix[0]["$match"]["agents"] == {"$in": ["k"]}
    assert list(prefix[-1]["$sort"]) == ["agents", "activity", "ts", "_id"]


async def test_mongo_report_index_is_created(secantus_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store=secantus_url,
                        mongodb_database=f"t_{uuid.uuid4().hex[:12]}")
    storage = await open_storage(settings)
    try:
        names = [index["name"] async for index in
                 await storage.statements._statements.list_indexes()]  # type: ignore[attr-defined]
        assert "compliance" in names
    finally:
        await storage.close()


async def test_sqlite_migration_reports_statements_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    old = SqliteDatabase(path)
    store = SqliteStatementStore(old)
    await store.open()
    earlier = make_statement(actor=make_agent("alice"))
    await store.save([stored(earlier), stored(make_statement(result=None))])
    await old.close()
    with sqlite3.connect(path) as conn:  # as a store of the release before reports was
        conn.executescript("""
            DROP TABLE compliance_results;
            DROP TRIGGER compliance_results_delete;
            DROP TRIGGER compliance_results_agent_delete;
            DELETE FROM schema_versions WHERE domain = 'compliance'""")
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        found = await rows(storage)
        assert [(r.agent, r.status, r.latest_statement) for r in found] == [
            ("mbox:mailto:alice@example.com", "completed", earlier["id"])]
    finally:
        await storage.close()


async def test_sqlite_migration_v3_adds_the_statements_without_a_result(tmp_path: Path) -> None:
    # A store of the release whose table held result statements only: its result-less
    # `completed` (no row then) completes the activity once the table is upgraded.
    storage = await open_storage(Settings(data_dir=tmp_path))
    bare = make_statement(actor=make_agent("bob"), result=None)
    await storage.statements.save([stored(bare)])
    await storage.close()
    with sqlite3.connect(tmp_path / "lrs.db") as conn:
        conn.execute("DELETE FROM compliance_results")
        conn.execute("UPDATE schema_versions SET version = 2 WHERE domain = 'compliance'")
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        found = await rows(storage)
        assert [(r.agent, r.status, r.decided_by, r.latest_statement) for r in found] == [
            ("mbox:mailto:bob@example.com", "completed", bare["id"], None)]
    finally:
        await storage.close()


async def test_deleted_statements_leave_the_report(storage: Storage) -> None:
    """Whatever deletes kept statements (purge, erasure) needs to do nothing more."""
    kept, gone = make_statement(actor=make_agent("alice")), make_statement(actor=make_agent("bob"))
    await storage.statements.save([stored(kept), stored(gone)])
    assert [r.latest_statement for r in await rows(storage)] == [kept["id"], gone["id"]]
    if storage.engine == "sqlite":
        await storage._resource.write(lambda c: c.execute(
            "DELETE FROM statements WHERE id = ?", (gone["id"],)))
        count = await storage._resource.read(lambda c: c.execute(
            "SELECT count(*) FROM compliance_results").fetchone()[0])
        assert count == 1
    else:
        await storage.statements._statements.delete_one(  # type: ignore[attr-defined]
            {"_id": gone["id"]})
    assert [r.latest_statement for r in await rows(storage)] == [kept["id"]]


async def test_group_actor_reports_each_member(storage: Storage) -> None:
    team = make_statement(actor={"objectType": "Group", "member": [
        make_agent("bob"), make_agent("alice")]})
    await storage.statements.save([stored(team)])
    found = await rows(storage)
    assert [(r.agent, r.agent_name) for r in found] == [
        ("mbox:mailto:alice@example.com", "Alice"), ("mbox:mailto:bob@example.com", "Bob")]


async def test_sqlite_result_rows_are_those_the_stored_bodies_give(tmp_path: Path) -> None:
    # The rows written from the parsed statement against what schema v3's query computes
    # from the stored JSON (it fills a store that predates the table or its result-less
    # rows): statements with and without results, a voiding one, non-Activity objects, Groups.
    from bench.generator import StatementGenerator

    generator = StatementGenerator(11, compliance_share=0.5)
    statements = [generator.statement() for _ in range(300)]
    statements += [
        make_statement(actor={"objectType": "Group", "name": "pair", "member": [
            make_agent("ann"), make_agent("ben")]}),
        make_statement(result={"completion": False, "success": True}),
        make_statement(result={"score": {"scaled": 0.2}}),
        make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                       object={"objectType": "StatementRef", "id": statements[0]["id"]},
                       result={"completion": True}),
        make_statement(object=make_agent("carl"), result={"completion": True}),
    ]
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        await storage.statements.save([stored(s) for s in statements])
        db: Any = storage._resource
        query = sqlite_compliance._SELECT_ROWS.format(
            a="a", join="JOIN statement_agents a ON a.seq = s.seq")
        written, recomputed = await db.read(lambda c: (
            sorted(c.execute("SELECT * FROM compliance_results").fetchall()),
            sorted(c.execute(query).fetchall())))
    finally:
        await storage.close()
    assert len(written) > 100 and written == recomputed
    assert any(not row[4] for row in written) and any(row[4] for row in written)
    no_result = statements[-3]  # not the voiding one or the Agent object: they have no row
    assert [row for row in written if row[2] == no_result["timestamp"]]
