"""SQLite's hit journal: hits are durable at acknowledgement, counted once when rolled up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aggregation.plan import Batch
from aggregation.store import Filters
from aggregation.stores.sqlite import SqliteTallyStore, _schema_v1, _schema_v2
from lrs.config import Settings
from lrs.engines.sqlite import SqliteBatches
from lrs.storage import open_storage
from statements.errors import Conflict
from statements.stores.sqlite import SqliteStatementStore
from statements.stores.sqlite_db import SqliteDatabase
from tests.aggregation.test_tally_contract import DAY, FAR, PAGE, VIEWED, hit, tallied


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_an_acknowledged_hit_survives_a_stop_before_its_roll_up(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store=f"sqlite:///{tmp_path}/lrs.db")
    storage = await open_storage(settings)
    try:  # three saves within a second: journalled, not yet rolled up
        for n in range(3):
            await storage.commit(Batch(tallied=[tallied(n, learner=(n, 2))], day=DAY,
                                   fingerprint_expires_ms=FAR))
    finally:
        await storage.close()  # as if the process stopped: no read came to roll up
    # One row per bucket (its hits summed) and one per sketch cell (no hit of its own).
    journal = rows(tmp_path / "lrs.db", "SELECT d.activity, SUM(j.delta), COUNT(j.register)"
                   " FROM tally_journal j JOIN tally_dims d ON d.id = j.dims GROUP BY 1")
    assert journal == [(PAGE, 3, 3)]

    reopened = await open_storage(settings)
    try:
        counted = await reopened.tally.popular(DAY, DAY, Filters(), by="hits", limit=5)
        assert [(c.activity, c.hits) for c in counted] == [(PAGE, 3)]
        # Read again: the journal was emptied by the roll-up, nothing is counted twice.
        again = await reopened.tally.popular(DAY, DAY, Filters(), by="hits", limit=5)
        assert [(c.activity, c.hits) for c in again] == [(PAGE, 3)]
    finally:
        await reopened.close()
    assert rows(tmp_path / "lrs.db", "SELECT COUNT(*) FROM tally_journal") == [(0,)]
    assert rows(tmp_path / "lrs.db", "SELECT register, rank FROM tally_learners"
                " ORDER BY register") == [(0, 2), (1, 2), (2, 2)]


async def test_saves_roll_the_journal_up_every_so_many_hits(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "lrs.db", readers=1)
    await SqliteStatementStore(db).open()  # the tally checks ids against kept statements
    store = SqliteTallyStore(db, roll_up_hits=4, roll_up_seconds=3600)
    await store.open()
    batches = SqliteBatches(db, store)
    try:
        for n in range(10):
            sent = ([tallied(n), tallied(100 + n, voids=tallied(n).statement_id)]
                    if n % 3 == 0 else [tallied(n, h=hit(hour=hit().hour + n % 2))])
            await batches.commit(Batch(tallied=sent, day=DAY, fingerprint_expires_ms=FAR))
            assert len(rows(tmp_path / "lrs.db", "SELECT * FROM tally_journal")) < 6
        hourly = await store.series(PAGE, hit().hour, hit().hour + 1, daily=False)
    finally:
        await db.close()
    # n = 0, 3, 6, 9 counted and voided in the same batch; the six others counted.
    assert sum(n for _, n in hourly) == 6
    assert hourly == [(hit().hour, 3), (hit().hour + 1, 3)]


async def test_fingerprints_of_the_first_schema_still_count_retries_and_voids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lrs.db"
    db = SqliteDatabase(path)
    await SqliteStatementStore(db).open()
    await db.migrate([_schema_v1], name="tally")  # the schema the first release wrote
    await db.close()
    counted, plain = tallied(1), tallied(2)
    with sqlite3.connect(path) as conn:  # two hits counted by the first release
        for t in (counted, plain):
            conn.execute("INSERT INTO fingerprints(id, hash, expires, hour, activity, verb,"
                         " activity_type, platform, credential) VALUES (?,?,?,?,?,?,?,?,?)",
                         (t.statement_id, t.content_hash, FAR, t.hit.hour, t.hit.activity,
                          t.hit.verb, t.hit.activity_type, t.hit.platform, t.hit.credential))
        conn.execute("INSERT INTO tally_hours VALUES (?,?,?,?,?,?,2)",
                     (PAGE, hit().hour, hit().verb, hit().activity_type, hit().platform,
                      hit().credential))
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        await storage.commit(Batch(tallied=[counted, tallied(3, voids=plain.statement_id)],
                                   day=DAY, fingerprint_expires_ms=FAR))
        with pytest.raises(Conflict):  # the old fingerprint still knows the content
            await storage.commit(Batch(tallied=[tallied(1, content="other")], day=DAY,
                                        fingerprint_expires_ms=FAR))
        hourly = await storage.tally.series(PAGE, hit().hour, hit().hour, daily=False)
        assert hourly == [(hit().hour, 1)]  # the retry not counted, the voided hit taken back
        assert set(await storage.tally.where([counted.statement_id, "00000000-0000-4000-8000-"
                                              "000000000009"])) == {counted.statement_id}
    finally:
        await storage.close()


async def test_the_activity_day_totals_are_built_from_the_existing_counters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lrs.db"
    db = SqliteDatabase(path)
    await SqliteStatementStore(db).open()
    await db.migrate([_schema_v1, _schema_v2], name="tally")  # before the totals existed
    await db.close()
    with sqlite3.connect(path) as conn:  # counted by that version: two verbs, one page
        conn.executemany("INSERT INTO tally_days VALUES (?,?,?,?,?,?,?)", [
            (DAY, PAGE, verb, "http://e.com/type", "intranet", "key1", n)
            for verb, n in (("http://e.com/viewed", 3), ("http://e.com/liked", 4))])
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        await storage.commit(Batch(tallied=[tallied(1)], day=DAY,
                                   fingerprint_expires_ms=FAR))
        everything = await storage.tally.popular(DAY, DAY, Filters(), by="hits", limit=5)
        liked = await storage.tally.popular(DAY, DAY, Filters(verb="http://e.com/liked"),
                                            by="hits", limit=5)
    finally:
        await storage.close()
    assert [(c.activity, c.hits) for c in everything] == [(PAGE, 8)]
    assert [(c.activity, c.hits) for c in liked] == [(PAGE, 4)]
    assert rows(path, "SELECT dim, value, hits FROM tally_activity_days WHERE dim IN"
                " ('', 'verb') ORDER BY 1, 2") == [
        ("", "", 8), ("verb", "http://e.com/liked", 4), ("verb", "http://e.com/viewed", 3),
        ("verb", VIEWED, 1)]


async def test_learners_are_estimated_for_the_top_activities_and_their_ties(
    tmp_path: Path,
) -> None:
    storage = await open_storage(Settings(data_dir=tmp_path))
    pages = [f"http://e.com/page{n}" for n in range(4)]
    try:  # hits 3, 2, 2, 1; every hit by another learner
        await storage.commit(Batch(tallied=[
            tallied(10 * p + n, h=hit(page), learner=(10 * p + n, 1))
            for p, (page, count) in enumerate(zip(pages, (3, 2, 2, 1), strict=True))
            for n in range(count)], day=DAY,
                                   fingerprint_expires_ms=FAR))
        top = await storage.tally.popular(DAY, DAY, Filters(), by="hits", limit=2)
        by_learners = await storage.tally.popular(DAY, DAY, Filters(), by="learners", limit=4)
    finally:
        await storage.close()
    assert [(c.activity, c.hits, round(c.learners)) for c in top] == [
        (pages[0], 3, 3), (pages[1], 2, 2)]
    assert [(c.activity, round(c.learners)) for c in by_learners] == [
        (pages[0], 3), (pages[1], 2), (pages[2], 2), (pages[3], 1)]
