"""Differential privacy of the aggregates on every engine (aggregation.privacy, .release):
contribution bounds at ingest, release once, the budget, a differencing attack, and the
figures unchanged with the option off."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from aggregation.privacy import noisy_counts
from aggregation.release import _releases, release_key
from aggregation.report import day_number
from aggregation.store import Filters
from lrs.config import Settings
from lrs.consistency import StoredClock
from lrs.credentials import Credential, Retention, Scope, authority_for, hash_secret
from lrs.ingest import build_ingest
from lrs.storage import Storage
from statements.versions import XapiVersion
from tests.conftest import add_credential, app_client
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")
PAGE = "http://intranet.example.com/pages/holiday-policy"
OTHER = "http://intranet.example.com/pages/canteen"
VIEWED = "http://id.tincanapi.com/verb/viewed"
LIKED = "http://activitystrea.ms/schema/1.0/like"
TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
# Generous settings so that small test traffic clears the noisy threshold often enough to
# be seen; the guarantee is the same kind, only weaker.
DP = {"dp_enabled": True, "dp_epsilon": 4.0, "dp_delta": 1e-3 / 2, "dp_budget_per_day": 8.0,
      "dp_hits_per_bucket": 2, "dp_buckets_per_learner": 1}


def view(learner: str, moment: datetime, activity: str = PAGE, verb: str = VIEWED
         ) -> dict[str, Any]:
    return make_statement(actor=make_agent(learner), verb={"id": verb},
                          object={"id": activity}, result=None,
                          timestamp=moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                          context={"platform": "intranet"})


async def send_as_of(storage: Storage, settings: Settings, moment: datetime,
                     statements: list[dict[str, Any]]) -> None:
    """Ingest `statements` with the LRS's clock at `moment` (a day now closed was open then:
    its key existed, so its learners were hashed and bounded)."""
    ingest = await build_ingest(storage, settings, clock=StoredClock(lambda: moment))
    credential = Credential(key="intranet-key", name="intranet", secret_hash=hash_secret("s"),
                            scopes=frozenset({Scope.STATEMENTS_WRITE}),
                            retention=Retention.TALLY,
                            authority=authority_for("intranet-key", "intranet", "http://t"),
                            created=moment)
    for start in range(0, len(statements), 500):
        await ingest(orjson.dumps(statements[start:start + 500]),
                     content_type="application/json", version=XapiVersion.V2,
                     credential=credential)


async def get(settings: Settings, storage: Storage, path: str, **params: str) -> Any:
    reader = await add_credential(storage, Scope.AGGREGATES_READ, name="dashboard")
    async with app_client(settings, storage, headers={**reader}) as client:
        return await client.get(f"/api/v1/aggregates/{path}", params=params)


def days_ago(n: int) -> datetime:
    return TODAY - timedelta(days=n)


def iso(moment: datetime) -> str:
    return moment.date().isoformat()


async def test_dp_contributions_are_bounded_and_the_rest_counted_as_clipped(
        settings: Settings, storage: Storage) -> None:
    settings = settings.model_copy(update=DP)
    # Ada views the page 5 times (2 counted) and the canteen once (clipped: she may add
    # hits to one activity a period); Bob views the canteen once.
    await send_as_of(storage, settings, days_ago(2), [
        *(view("ada", days_ago(2)) for _ in range(5)), view("ada", days_ago(2), OTHER),
        view("bob", days_ago(2), OTHER)])
    day = day_number(days_ago(2).date())
    exact = {c.activity: c.hits for c in await storage.tally.popular(
        day, day, Filters(), by="hits", limit=10)}
    assert exact == {PAGE: 2, OTHER: 1}
    summary = await storage.tally.summary(day, day)
    assert summary.decisions == {"tally": 7, "clipped": 4}


async def test_dp_a_retry_does_not_use_up_the_bounds(settings: Settings, storage: Storage
                                                     ) -> None:
    settings = settings.model_copy(update=DP)
    first = view("ada", days_ago(2))
    for _ in range(3):  # the platform retries the same statement
        await send_as_of(storage, settings, days_ago(2), [first])
    await send_as_of(storage, settings, days_ago(2), [view("ada", days_ago(2))])
    day = day_number(days_ago(2).date())
    (row,) = await storage.tally.popular(day, day, Filters(), by="hits", limit=1)
    assert row.hits == 2  # her second hit is within the bound of 2: not clipped
    assert (await storage.tally.summary(day, day)).decisions == {"tally": 2}


async def test_dp_closed_bucket_is_released_once_and_repeated_queries_agree(
        settings: Settings, storage: Storage) -> None:
    settings = settings.model_copy(update=DP)
    await send_as_of(storage, settings, days_ago(2), [
        view(f"learner{n}", days_ago(2)) for n in range(400)])
    window = {"from": iso(days_ago(3)), "to": iso(TODAY)}
    first = await get(settings, storage, "popular", **window)
    assert first.status_code == 200, first.text
    again = [await get(settings, storage, "popular", **window) for _ in range(3)]
    assert all(r.json() == first.json() for r in again)  # the same figures, every time
    body = first.json()
    privacy = body["privacy"]
    # Four days asked for, three closed (today is open, not released): each released once.
    assert privacy["released_through"] == iso(days_ago(1))
    assert privacy["spent"] == {iso(days_ago(n)): DP["dp_epsilon"] for n in (3, 2, 1)}
    assert privacy["remaining"] == DP["dp_budget_per_day"] - DP["dp_epsilon"]
    assert body["uniques"]["counted_as"] == "learner-days"
    (row,) = body["activities"]
    # 400 hits with noise of scale 2·1/2 = 1: the figure is close, and rarely exact.
    assert abs(row["hits"] - 400) < 40 and abs(row["learner_periods"] - 400) < 40
    series = await get(settings, storage, "series", activity=PAGE, **window)
    assert series.json()["points"] == [{"bucket": iso(days_ago(2)), "hits": row["hits"]}]


async def test_dp_budget_is_accounted_and_a_query_past_it_is_refused(
        settings: Settings, storage: Storage) -> None:
    settings = settings.model_copy(update=DP)  # budget 8, epsilon 4: two releases a day
    await send_as_of(storage, settings, days_ago(1), [view("ada", days_ago(1))])
    day = {"from": iso(days_ago(1)), "to": iso(days_ago(1))}
    assert (await get(settings, storage, "popular", **day)).status_code == 200
    liked = await get(settings, storage, "popular", verb=LIKED, **day)
    assert liked.status_code == 200 and liked.json()["privacy"]["remaining"] == 0
    refused = await get(settings, storage, "popular", verb=VIEWED, **day)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert f"privacy budget of {iso(days_ago(1))} is spent (8 of 8" in error["message"]
    assert error["problems"][0]["path"] == "?from"
    # What was released stays available, at no cost, and the same.
    again = await get(settings, storage, "popular", verb=LIKED, **day)
    assert again.status_code == 200 and again.json() == liked.json()
    assert (await get(settings, storage, "summary", **day)).status_code == 409


async def test_dp_concurrent_asks_for_one_release_draw_and_spend_once(
        settings: Settings, storage: Storage) -> None:
    """A page asks for the same release from several requests at once (the dashboard's
    popularity and unopened lists): one draws, the others wait for its figure, and the
    spending seen by any of them is never more than the one release."""
    settings = settings.model_copy(update=DP)
    await send_as_of(storage, settings, days_ago(1), [view("ada", days_ago(1))])
    day = day_number(days_ago(1).date())
    privacy = settings.privacy()
    assert privacy is not None
    draws, seen = 0, []

    async def draw(_: int) -> dict[str, int]:
        nonlocal draws
        draws += 1
        await asyncio.sleep(0.05)  # the others ask meanwhile
        seen.append((await storage.tally.spent(day, day)).get(day, 0.0))
        return {"figure": draws}

    keys = {day: release_key("test", Filters(), day)}
    results = await asyncio.gather(*(_releases(storage.tally, privacy, keys, draw)
                                     for _ in range(5)))
    assert draws == 1 and all(r == {day: {"figure": 1}} for r in results)
    assert seen == [0.0]
    assert await storage.tally.spent(day, day) == {day: DP["dp_epsilon"]}


async def test_dp_differencing_two_overlapping_windows_does_not_reveal_a_hit(
        settings: Settings, storage: Storage) -> None:
    """The attack: the windows [D-3, D-2] and [D-3, D-1] differ by day D-1, when the target
    made one hit. Without DP their exact figures differ by exactly her hit. With DP each
    window is summed from per-day releases drawn once: the difference is exactly day D-1's
    release, which is (epsilon, delta)-DP for her, and asking again cannot average it
    away (it is the same figure). The statistical half of the argument is the next test."""
    settings = settings.model_copy(update=DP)
    crowd = [view(f"learner{n}", days_ago(d)) for d in (3, 2, 1) for n in range(300)]
    await send_as_of(storage, settings, days_ago(3), crowd[:300])
    await send_as_of(storage, settings, days_ago(2), crowd[300:600])
    await send_as_of(storage, settings, days_ago(1), [*crowd[600:], view("target", days_ago(1))])
    short = {"from": iso(days_ago(3)), "to": iso(days_ago(2))}
    long = {"from": iso(days_ago(3)), "to": iso(days_ago(1))}
    last = {"from": iso(days_ago(1)), "to": iso(days_ago(1))}
    figures = []
    for _ in range(2):
        pair = [(await get(settings, storage, "popular", **w)).json()["activities"][0]["hits"]
                for w in (short, long, last)]
        figures.append(pair)
    assert figures[0] == figures[1]  # drawn once: repeating the attack gains nothing
    short_hits, long_hits, last_hits = figures[0]
    assert long_hits - short_hits == last_hits  # the difference is day D-1's release only
    exact = await storage.tally.popular(day_number(days_ago(1).date()),
                                        day_number(days_ago(1).date()), Filters(),
                                        by="hits", limit=1)
    assert exact[0].hits == 301  # the target's hit is in the counters, not in a figure


def test_dp_release_hides_one_hit_statistically() -> None:
    """The release of a day with and without the target's one hit, drawn by OpenDP many
    times (its noise comes from the system's secure random source: no seed can be fixed, so
    the bound has slack). Any attacker's test of "present" has an advantage (true-positive
    minus false-positive rate) of at most (e^eps - 1)/(e^eps + 1) + delta for an
    (eps, delta)-DP release; the best threshold test on 3000 draws each must stay within it
    plus 0.08 (about seven standard errors: a false failure is vanishingly rare). Without
    noise the advantage is 1."""
    epsilon, delta = 1.0, 1e-6
    draws = 3000

    def release(hits: int) -> list[int]:
        return [noisy_counts({PAGE: hits}, epsilon=epsilon, delta=delta, l0=1, linf=1)
                .get(PAGE, 0) for _ in range(draws)]

    without, with_target = release(1000), release(1001)
    bound = (math.exp(epsilon) - 1) / (math.exp(epsilon) + 1) + delta
    advantage = max(sum(v >= t for v in with_target) / draws
                    - sum(v >= t for v in without) / draws
                    for t in range(min(without), max(with_target) + 2))
    assert advantage <= bound + 0.08, (advantage, bound)
    assert len(set(with_target)) > 5  # noise was drawn


@pytest.mark.parametrize("path", ["popular", "series", "summary", "unopened"])
async def test_dp_off_figures_are_exactly_as_before(settings: Settings, storage: Storage,
                                                   path: str) -> None:
    """With the option off, the DP settings change nothing: every figure (exact, suppressed
    below k) and every field is the same as with the defaults."""
    await send_as_of(storage, settings, TODAY, [
        *(view(f"learner{n}", TODAY) for n in range(12)), view("ada", TODAY, OTHER),
        *(view(f"learner{n}", TODAY, verb=LIKED) for n in range(3))])
    knobs = {**DP, "dp_enabled": False}
    params = {"activity": PAGE} if path == "series" else {}
    before = await get(settings, storage, path, **params)
    after = await get(settings.model_copy(update=knobs), storage, path, **params)
    assert before.status_code == after.status_code == 200
    assert before.json() == after.json()
    assert "privacy" not in before.json()
    if path == "popular":
        rows = {r["activity"]: r for r in before.json()["activities"]}
        assert rows[PAGE]["hits"] == 15 and rows[OTHER]["hits"] == {"fewer_than": 5}


async def test_dp_contribution_digests_go_with_the_period_key(
        settings: Settings, storage: Storage) -> None:
    settings = settings.model_copy(update={**DP, "tally_key_period": "week"})
    await send_as_of(storage, settings, TODAY, [view(f"p{uuid.uuid4().hex}", TODAY)
                                                for _ in range(3)])
    start = day_number(TODAY.date()) - TODAY.weekday()
    assert await storage.tally.day_key(start, today=start) is not None
    counted = await storage.tally.bound_contributions(
        start, [(b"x" * 16, b"y" * 16)], per_bucket=1, buckets=1)
    assert counted == [True]
    await storage.tally.purge(now_ms=0, today=start + 7)  # the week closed
    assert await storage.tally.day_key(start, today=start + 7) is None
    # The digests went with the key: the same pair counts afresh in the period's place.
    assert await storage.tally.bound_contributions(
        start, [(b"x" * 16, b"y" * 16)], per_bucket=1, buckets=1) == [True]
