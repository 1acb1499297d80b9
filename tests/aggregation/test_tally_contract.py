"""The TallyStore contract, over every reachable engine."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from aggregation.hits import Hit
from aggregation.plan import Batch
from aggregation.store import Filters, Tallied
from lrs.storage import Storage
from statements.enrich import enrich
from statements.errors import Conflict
from statements.versions import XapiVersion
from tests.factories import make_statement

PAGE, OTHER = "http://e.com/page", "http://e.com/other"
VIEWED = "http://id.tincanapi.com/verb/viewed"
HOUR = 490_000  # some hour since the epoch (in 2025)
DAY = HOUR // 24
FAR = 4_000_000_000_000  # a fingerprint expiry far in the future (2096)


def hit(activity: str = PAGE, hour: int = HOUR, platform: str = "intranet") -> Hit:
    return Hit(activity, VIEWED, "http://e.com/type", platform, "key1", hour)


def tallied(n: int, content: str = "a", h: Hit | None = None,
            learner: tuple[int, int] | None = None, voids: str | None = None) -> Tallied:
    statement_id = f"00000000-0000-4000-8000-{n:012d}"
    return Tallied(statement_id, hashlib.sha256(content.encode()).hexdigest(),
                   h if h is not None or voids else hit(), learner, voids)


async def save(storage: Storage, *items: Tallied, expires: int = FAR) -> None:
    await storage.commit(Batch(tallied=items, day=DAY, fingerprint_expires_ms=expires))


async def hits_of(storage: Storage, activity: str = PAGE, **filters: str) -> int:
    rows = await storage.tally.popular(DAY - 1, DAY + 1, Filters(**filters), by="hits",
                                       limit=10)
    return next((r.hits for r in rows if r.activity == activity), 0)


async def test_tally_counts_and_filters(storage: Storage) -> None:
    await save(storage, *(tallied(n) for n in range(3)),
               tallied(3, h=hit(platform="lms")), tallied(4, h=hit(OTHER)))
    assert await hits_of(storage) == 4
    assert await hits_of(storage, platform="lms") == 1
    assert await hits_of(storage, verb="http://e.com/other-verb") == 0
    assert await hits_of(storage, OTHER) == 1
    rows = await storage.tally.popular(DAY, DAY, Filters(), by="hits", limit=1)
    assert [r.activity for r in rows] == [PAGE]


async def test_tally_retry_is_counted_once_and_other_content_conflicts(
    storage: Storage,
) -> None:
    await save(storage, tallied(1), tallied(2))
    await save(storage, tallied(1), tallied(2), tallied(3))
    assert await hits_of(storage) == 3
    with pytest.raises(Conflict):
        await save(storage, tallied(4), tallied(1, content="changed"))
    assert await hits_of(storage) == 3  # nothing of the failed batch was counted


async def test_tally_conflicts_with_a_kept_statement_of_the_same_id(storage: Storage) -> None:
    statement = make_statement(id="00000000-0000-4000-8000-000000000009")
    kept = enrich(statement, statement_id=statement["id"], stored=datetime.now(UTC),
                  authority={"mbox": "mailto:lrs@e.com"}, version=XapiVersion.V2)
    await storage.commit(Batch(kept=[kept], day=DAY, fingerprint_expires_ms=FAR))
    assert await storage.tally.where([statement["id"]]) == {statement["id"]: "full"}
    with pytest.raises(Conflict):
        await save(storage, tallied(9))
    same = Tallied(statement["id"], kept.content_hash, hit(), None)
    await save(storage, same)  # the same content again: a no-op, not a second copy
    assert await hits_of(storage) == 0


async def test_tally_voiding_takes_the_hit_back_once(storage: Storage) -> None:
    await save(storage, tallied(1), tallied(2))
    assert await storage.tally.where([tallied(1).statement_id]) == {
        tallied(1).statement_id: "tally"}
    void = tallied(3, content="void", voids=tallied(1).statement_id)
    await save(storage, void)
    await save(storage, void)  # a retry of the voiding statement changes nothing
    await save(storage, tallied(4, content="void again", voids=tallied(1).statement_id))
    assert await hits_of(storage) == 1


async def test_tally_series_rolls_hours_up_into_days(storage: Storage) -> None:
    await save(storage, tallied(1), tallied(2, h=hit(hour=HOUR + 1)),
               tallied(3, h=hit(hour=HOUR + 30)))
    hourly = await storage.tally.series(PAGE, HOUR - 5, HOUR + 40, daily=False)
    assert hourly == [(HOUR, 1), (HOUR + 1, 1), (HOUR + 30, 1)]
    daily = await storage.tally.series(PAGE, HOUR - 5, HOUR + 40, daily=True)
    assert sum(n for _, n in daily) == 3 and len(daily) == 2


async def test_tally_learners_are_estimated_from_registers(storage: Storage) -> None:
    learners = [tallied(n, learner=(n, 1)) for n in range(20)]  # 20 distinct registers
    await save(storage, *learners, tallied(99, learner=(0, 1)))  # a returning learner
    rows = await storage.tally.popular(DAY, DAY, Filters(), by="learners", limit=5)
    assert rows[0].hits == 21 and round(rows[0].learners) == 20


async def test_tally_fingerprints_expire(storage: Storage) -> None:
    await save(storage, tallied(1), expires=1_000)
    await storage.tally.purge(now_ms=2_000, today=DAY)
    assert await storage.tally.where([tallied(1).statement_id]) == {}
    await save(storage, tallied(1))  # past the window a retry is a new hit
    assert await hits_of(storage) == 2


async def test_tally_day_keys_are_destroyed_when_the_day_closes(storage: Storage) -> None:
    key = await storage.tally.day_key(DAY, today=DAY)
    assert key is not None and await storage.tally.day_key(DAY, today=DAY) == key
    assert await storage.tally.day_key(DAY + 1, today=DAY) not in (None, key)
    await storage.tally.purge(now_ms=0, today=DAY + 1)
    assert await storage.tally.day_key(DAY, today=DAY + 1) is None


async def test_tally_summary_counts_decisions(storage: Storage) -> None:
    await save(storage, tallied(1), tallied(2, h=hit(platform="lms")))
    summary = await storage.tally.summary(DAY - 1, DAY + 1)
    assert summary.hits == 2 and summary.by_platform == {"intranet": 1, "lms": 1}
    assert summary.decisions == {"tally": 2}


async def test_tally_windows_and_daily_series_match_a_plain_count(storage: Storage) -> None:
    # Hits arrive out of day order (a late or back-dated statement), some are voided, and
    # the counters are read between batches (so they are rolled up several times): every
    # window, filter and daily series must still be the plain count of what is left.
    rng = random.Random(2026)
    activities = [f"http://e.com/a{n}" for n in range(5)]
    verbs = [VIEWED, "http://e.com/liked", "http://e.com/shared"]
    counted: dict[str, Hit] = {}
    number = 0
    for _ in range(12):
        batch = []
        for _ in range(rng.randint(1, 12)):
            number += 1
            if counted and rng.random() < 0.15:
                target = rng.choice(sorted(counted))
                del counted[target]
                batch.append(tallied(number, voids=target))
                continue
            h = Hit(rng.choice(activities), rng.choice(verbs), "http://e.com/type",
                    rng.choice(("lms", "intranet")), "key1",
                    (DAY + rng.randrange(-6, 7)) * 24 + rng.randrange(24))
            counted[tallied(number).statement_id] = h
            batch.append(tallied(number, h=h))
        await save(storage, *batch)
        first = DAY + rng.randrange(-7, 7)
        last = first + rng.choice((0, 1, 3, 14))
        for filters in (Filters(), Filters(verb=rng.choice(verbs)), Filters(platform="lms"),
                        Filters(verb=VIEWED, platform="intranet")):
            wanted = Counter(h.activity for h in counted.values()
                             if first <= h.day <= last and _matches(h, filters))
            rows = await storage.tally.popular(first, last, filters, by="hits", limit=10)
            assert {r.activity: r.hits for r in rows} == wanted, (first, last, filters)
            activity = rng.choice(activities)
            daily = Counter(h.day for h in counted.values()
                            if h.activity == activity and first <= h.day <= last
                            and _matches(h, filters))
            series = await storage.tally.series(activity, first * 24, last * 24 + 23,
                                                daily=True, filters=filters)
            assert series == sorted(daily.items()), (activity, first, last, filters)


def _matches(h: Hit, filters: Filters) -> bool:
    return all(getattr(h, dim) == value for dim, value in vars(filters).items()
               if value is not None)
