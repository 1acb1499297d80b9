"""SQLite's hit journal: hits are durable at acknowledgement, counted once when rolled up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aggregation.store import Filters
from aggregation.stores.sqlite import SqliteTallyStore
from lrs.config import Settings
from lrs.storage import open_storage
from statements.stores.sqlite import SqliteStatementStore
from statements.stores.sqlite_db import SqliteDatabase
from tests.aggregation.test_tally_contract import DAY, FAR, PAGE, hit, tallied


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_an_acknowledged_hit_survives_a_stop_before_its_roll_up(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store=f"sqlite:///{tmp_path}/lrs.db")
    storage = await open_storage(settings)
    try:  # three saves within a second: journalled, not yet rolled up
        for n in range(3):
            await storage.tally.save([], [], [tallied(n, learner=(n, 2))], decisions={},
                                     day=DAY, fingerprint_expires_ms=FAR)
    finally:
        await storage.close()  # as if the process stopped: no read came to roll up
    journal = rows(tmp_path / "lrs.db", "SELECT activity, delta FROM tally_journal")
    assert journal and all(row == (PAGE, 1) for row in journal)

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
    try:
        for n in range(10):
            await store.save([], [], [tallied(n), tallied(100 + n, voids=tallied(n).statement_id)]
                             if n % 3 == 0 else [tallied(n, h=hit(hour=hit().hour + n % 2))],
                             decisions={}, day=DAY, fingerprint_expires_ms=FAR)
            assert len(rows(tmp_path / "lrs.db", "SELECT * FROM tally_journal")) < 6
        hourly = await store.series(PAGE, hit().hour, hit().hour + 1, daily=False)
    finally:
        await db.close()
    # n = 0, 3, 6, 9 counted and voided in the same batch; the six others counted.
    assert sum(n for _, n in hourly) == 6
    assert hourly == [(hit().hour, 3), (hit().hour + 1, 3)]
