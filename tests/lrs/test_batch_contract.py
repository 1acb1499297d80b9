"""The BatchStore contract (Storage.commit), over every reachable engine: each engine writes
the plan of aggregation.plan and decides nothing, so every rule holds alike on each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest

from aggregation.plan import Batch
from aggregation.store import Filters, Tallied
from lrs.storage import Storage
from statements.attachments import RawAttachment
from statements.enrich import StoredStatement, enrich
from statements.errors import Conflict
from statements.query import StatementQuery
from statements.versions import XapiVersion
from tests.aggregation.test_tally_contract import DAY, FAR, PAGE, tallied
from tests.factories import make_statement, voiding

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k1"}}
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def kept(statement: dict[str, object]) -> StoredStatement:
    return enrich(statement, statement_id=str(statement["id"]), stored=AT, authority=AUTHORITY,
                  version=XapiVersion.V2)


def batch(*kept_statements: StoredStatement, tallied_items: tuple[Tallied, ...] = (),
          attachments: tuple[RawAttachment, ...] = (), dropped: int = 0) -> Batch:
    return Batch(kept=kept_statements, attachments=attachments, tallied=tallied_items,
                 dropped=dropped, day=DAY, fingerprint_expires_ms=FAR)


async def hits(storage: Storage) -> int:
    rows = await storage.tally.popular(DAY - 1, DAY + 1, Filters(), by="hits", limit=10)
    return next((r.hits for r in rows if r.activity == PAGE), 0)


async def kept_ids(storage: Storage) -> list[str]:
    page = await storage.statements.query(StatementQuery(limit=100))
    return sorted(orjson.loads(body)["id"] for body in page.statements)


async def decisions(storage: Storage) -> dict[str, int]:
    return (await storage.tally.summary(DAY - 1, DAY + 1)).decisions


async def test_commit_stores_counts_and_a_retry_is_an_empty_plan(storage: Storage) -> None:
    statement = kept(make_statement())
    data = RawAttachment("ab" * 32, "text/plain", b"certificate")
    first = await storage.commit(batch(statement, tallied_items=(tallied(1), tallied(2)),
                                       attachments=(data,), dropped=1))
    assert first.new_ids == [statement.id, tallied(1).statement_id, tallied(2).statement_id]
    again = await storage.commit(batch(statement, tallied_items=(tallied(1), tallied(2)),
                                       attachments=(data,), dropped=1))
    assert again.new_ids == [] and again.attachments == ()
    assert await kept_ids(storage) == [statement.id]
    assert await hits(storage) == 2
    # DESIGN §4: each decision counted once per statement stored; drops each time sent.
    assert await decisions(storage) == {"full": 1, "tally": 2, "drop": 2}
    assert [a.data for a in await storage.statements.get_attachments(["ab" * 32])] == [
        b"certificate"]


@pytest.mark.parametrize("held_as", ["kept", "tallied"])
@pytest.mark.parametrize("sent_as", ["kept", "tallied"])
async def test_commit_same_id_other_content_is_409_and_writes_nothing(
        storage: Storage, held_as: str, sent_as: str) -> None:
    # Communication §2.1.2.s2.b5: whichever way each was stored.
    statement = make_statement(id=tallied(7).statement_id)
    await storage.commit(batch(kept(statement)) if held_as == "kept"
                         else batch(tallied_items=(tallied(7),)))
    fresh = kept(make_statement())
    changed = kept({**statement, "verb": {"id": "http://example.com/verbs/other"}})
    with pytest.raises(Conflict):
        await storage.commit(batch(fresh, changed) if sent_as == "kept"
                             else batch(fresh, tallied_items=(tallied(7, content="other"),)))
    assert fresh.id not in await kept_ids(storage)
    assert await hits(storage) == (1 if held_as == "tallied" else 0)
    assert await decisions(storage) == {"full" if held_as == "kept" else "tally": 1}


async def test_commit_voids_kept_targets_in_any_order(storage: Storage) -> None:
    # Data §2.3.2: before, after, and in the same batch as its target.
    before, after, same = (kept(make_statement()) for _ in range(3))
    await storage.commit(batch(before))
    await storage.commit(batch(kept(voiding(before.id))))
    await storage.commit(batch(kept(voiding(after.id))))
    await storage.commit(batch(after))
    await storage.commit(batch(kept(voiding(same.id)), same))
    for target in (before, after, same):
        assert await storage.statements.get(target.id, voided=True) is not None
        assert await storage.statements.get(target.id, voided=False) is None


async def test_commit_takes_a_tallied_hit_back_once(storage: Storage) -> None:
    await storage.commit(batch(tallied_items=(tallied(1), tallied(2))))
    void = tallied(3, content="void", voids=tallied(1).statement_id)
    await storage.commit(batch(tallied_items=(void,)))
    await storage.commit(batch(tallied_items=(void,)))  # retried
    await storage.commit(batch(tallied_items=(tallied(4, content="again",
                                                      voids=tallied(1).statement_id),)))
    # In the same batch as its target: counted and taken back at once.
    await storage.commit(batch(tallied_items=(tallied(5), tallied(
        6, content="void", voids=tallied(5).statement_id))))
    assert await hits(storage) == 1
    assert await decisions(storage) == {"tally": 6}


@pytest.mark.parametrize("kind", ["kept", "tallied"])
async def test_commits_of_the_same_batch_at_once_store_and_count_it_once(
        storage: Storage, kind: str) -> None:
    statement = kept(make_statement())
    sent = batch(statement) if kind == "kept" else batch(tallied_items=(tallied(1),))
    plans = await asyncio.gather(*(storage.commit(sent) for _ in range(4)))
    assert sorted(len(p.new_ids) for p in plans) == [0, 0, 0, 1]
    assert await decisions(storage) == {"full" if kind == "kept" else "tally": 1}
    if kind == "kept":
        assert await kept_ids(storage) == [statement.id]
    else:
        assert await hits(storage) == 1


async def test_a_conflicting_batch_among_concurrent_commits_fails_alone(
        storage: Storage) -> None:
    # SQLite commits concurrent batches in one transaction (group commit), MongoDB each in
    # its own: either way the 409 is the conflicting batch's only.
    held = make_statement()
    await storage.commit(batch(kept(held)))
    first, second = kept(make_statement()), kept(make_statement())
    changed = kept({**held, "verb": {"id": "http://example.com/verbs/other"}})
    results = await asyncio.gather(
        storage.commit(batch(first, tallied_items=(tallied(1),))),
        storage.commit(batch(kept(make_statement()), changed)),
        storage.commit(batch(second, tallied_items=(tallied(1), tallied(2)))),
        return_exceptions=True)
    assert isinstance(results[1], Conflict)
    assert not isinstance(results[0], BaseException)
    assert not isinstance(results[2], BaseException)
    assert await kept_ids(storage) == sorted([held["id"], first.id, second.id])
    assert await hits(storage) == 2
    assert await decisions(storage) == {"full": 3, "tally": 2}
