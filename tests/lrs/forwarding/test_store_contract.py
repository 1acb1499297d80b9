"""The ForwardingStore contract over every reachable engine: the outbox is written by the
batch's own commit, leases never overlap, failures back off and then park, replay and
discard act on dead letters only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aggregation.hits import Hit
from aggregation.plan import Batch
from aggregation.store import Tallied
from lrs.forwarding import Destination, Rule
from lrs.storage import Storage
from tests.aggregation.test_tally_contract import DAY, FAR
from tests.conftest import ENGINES
from tests.factories import make_statement
from tests.lrs.test_batch_contract import kept

LEASE = 30_000
NO_TRANSACTIONS = "mongodb-without-transactions"


@pytest.fixture(params=[*ENGINES, NO_TRANSACTIONS])
def engine(request: pytest.FixtureRequest) -> str:
    """Every engine, and MongoDB once more told the deployment has no transactions (a
    standalone server: the outbox written just after the statements)."""
    return str(request.param)


@pytest.fixture
async def storage(engine: str, storage: Storage) -> AsyncIterator[Storage]:
    if engine == NO_TRANSACTIONS:
        storage._engine.kernel._transactions = False  # type: ignore[attr-defined]
    yield storage


async def destination(storage: Storage, name: str = "warehouse",
                      created: str = "2026-01-01T00:00:00Z") -> Destination:
    found = Destination(f"d-{name}", name, "webhook", "http://127.0.0.1:9/hook", "s3cret",
                        created=created)
    await storage.forwarding.add_destination(found)
    return found


async def commit_kept(storage: Storage, count: int, destination_id: str) -> list[str]:
    statements = [kept(make_statement()) for _ in range(count)]
    await storage.commit(Batch(kept=statements, day=DAY, fingerprint_expires_ms=FAR,
                               forward={s.id: (destination_id,) for s in statements}))
    return [s.id for s in statements]


async def test_outbox_item_is_written_by_the_commit_once_and_a_retry_adds_none(
        storage: Storage) -> None:
    target = await destination(storage)
    statement = kept(make_statement())
    batch = Batch(kept=[statement], day=DAY, fingerprint_expires_ms=FAR,
                  forward={statement.id: (target.id,)})
    await storage.commit(batch)
    await storage.commit(batch)  # the same statement again: a retry, nothing new
    leased = await storage.forwarding.lease("a", now_ms=2**50, lease_ms=LEASE, limit=10)
    assert [(i.statement_id, i.destination, i.hit) for i in leased] == [
        (statement.id, target.id, None)]


async def test_a_tallied_statement_leaves_only_as_its_hit(storage: Storage) -> None:
    target = await destination(storage)
    hit = Hit("http://example.com/page", "http://adlnet.gov/expapi/verbs/experienced",
              "http://example.com/type", "intranet", "key-1", 494_000)
    await storage.commit(Batch(tallied=[Tallied("3f2b0b0e-0000-4000-8000-000000000001",
                                                "ab" * 32, hit, None)],
                               day=DAY, fingerprint_expires_ms=FAR, salt=b"salt",
                               forward={"3f2b0b0e-0000-4000-8000-000000000001": (target.id,)}))
    [item] = await storage.forwarding.lease("a", now_ms=2**50, lease_ms=LEASE, limit=10)
    assert item.statement_id is None
    assert item.hit == {"resource": "http://example.com/page",
                        "verb": "http://adlnet.gov/expapi/verbs/experienced",
                        "platform": "intranet", "hour": "2026-05-10T08:00:00Z"}
    assert "3f2b0b0e" not in item.key  # the key names no statement


async def test_a_batch_refused_with_a_conflict_writes_no_outbox_item(storage: Storage) -> None:
    target = await destination(storage)
    first = make_statement()
    await storage.commit(Batch(kept=[kept(first)], day=DAY, fingerprint_expires_ms=FAR))
    changed = kept({**first, "verb": {"id": "http://example.com/other"}})
    with pytest.raises(Exception, match="already exists"):
        await storage.commit(Batch(kept=[changed], day=DAY, fingerprint_expires_ms=FAR,
                                   forward={changed.id: (target.id,)}))
    assert await storage.forwarding.lease("a", now_ms=2**50, lease_ms=LEASE, limit=10) == []


async def test_two_workers_leasing_at_once_never_hold_the_same_item(storage: Storage) -> None:
    target = await destination(storage)
    ids = await commit_kept(storage, 30, target.id)
    now = 2**50
    results = await asyncio.gather(*(storage.forwarding.lease(
        owner, now_ms=now, lease_ms=LEASE, limit=8) for owner in ("a", "b", "c", "d", "e")))
    held = [i.statement_id for batch in results for i in batch]
    assert len(held) == len(set(held)) == 30
    assert set(held) == set(ids)
    # Leased: nobody else gets them until the lease expires; then someone does.
    assert await storage.forwarding.lease("f", now_ms=now, lease_ms=LEASE, limit=50) == []
    again = await storage.forwarding.lease("f", now_ms=now + LEASE, lease_ms=LEASE, limit=50)
    assert len(again) == 30


async def test_delivered_by_a_worker_that_lost_its_lease_stays_queued(storage: Storage) -> None:
    target = await destination(storage)
    await commit_kept(storage, 1, target.id)
    now = 2**50
    [item] = await storage.forwarding.lease("a", now_ms=now, lease_ms=LEASE, limit=1)
    [taken] = await storage.forwarding.lease("b", now_ms=now + LEASE, lease_ms=LEASE, limit=1)
    await storage.forwarding.delivered(target.id, [item.key], "a", now_ms=now)
    [status] = await storage.forwarding.status()
    assert (status.queued, status.delivered) == (1, 0)
    await storage.forwarding.delivered(target.id, [taken.key], "b", now_ms=now)
    [status] = await storage.forwarding.status()
    assert (status.queued, status.delivered, status.oldest_ms) == (0, 1, None)


async def test_failures_back_off_then_park_and_replay_queues_them_again(
        storage: Storage) -> None:
    target = await destination(storage)
    await commit_kept(storage, 2, target.id)
    now = 2**50
    for attempt in range(3):
        items = await storage.forwarding.lease("a", now_ms=now, lease_ms=LEASE, limit=10)
        assert len(items) == 2 and {i.attempts for i in items} == {attempt}
        await storage.forwarding.failed(target.id, items, "a", error=f"HTTP 500 #{attempt}",
                                        now_ms=now, due_ms=[now + 1000] * 2, max_attempts=3)
        assert await storage.forwarding.lease("a", now_ms=now, lease_ms=LEASE, limit=10) == []
        now += 1000
    # Three failed attempts with max_attempts=3: parked, never leased again.
    assert await storage.forwarding.lease("a", now_ms=now * 2, lease_ms=LEASE, limit=10) == []
    [status] = await storage.forwarding.status()
    assert (status.queued, status.dead, status.last_error) == (0, 2, "HTTP 500 #2")
    dead = await storage.forwarding.dead_letters(target.id)
    assert [(d.attempts, d.last_error) for d in dead] == [(3, "HTTP 500 #2")] * 2
    assert await storage.forwarding.replay(target.id, [dead[0].key], now_ms=now) == 1
    [back] = await storage.forwarding.lease("a", now_ms=now, lease_ms=LEASE, limit=10)
    assert (back.key, back.attempts) == (dead[0].key, 0)
    assert await storage.forwarding.discard(target.id, None) == 1
    [status] = await storage.forwarding.status()
    assert (status.queued, status.dead) == (1, 0)


async def test_destinations_and_rules_round_trip_and_go_together(storage: Storage) -> None:
    target = await destination(storage)
    other = await destination(storage, "other", "2026-01-02T00:00:00Z")
    rule = Rule("r1", target.id, "kept", ("http://example.com/v",), "http://example.com/a*",
                ("lms",), "2026-01-01T00:00:00Z")
    await storage.forwarding.add_rule(rule)
    await storage.forwarding.add_rule(Rule("r2", other.id, created="2026-01-02T00:00:00Z"))
    assert await storage.forwarding.destinations() == [target, other]
    assert (await storage.forwarding.rules())[0] == rule
    await commit_kept(storage, 1, target.id)
    assert await storage.forwarding.remove_destination(target.id)
    assert [r.id for r in await storage.forwarding.rules()] == ["r2"]
    assert await storage.forwarding.lease("a", now_ms=2**50, lease_ms=LEASE, limit=10) == []
    assert not await storage.forwarding.remove_rule("r1")
