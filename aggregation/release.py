"""Release once (DESIGN §4, differential privacy): each closed day's figures of one query and
filter combination are drawn once with noise, stored, and every window is summed from them.

A window's figure is a sum of per-day releases (post-processing, which costs no privacy), so
two overlapping windows differ by the released figures of the days they do not share: a
differencing attack learns nothing beyond those releases. Only closed days (before the open
day) are released; a query needing a new release its day's budget cannot pay is refused.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from aggregation.hits import DAY_HOURS
from aggregation.privacy import Privacy, budget_spent, noisy_counts, noisy_vector, threshold_of
from aggregation.report import day_of
from aggregation.store import ActivityCount, Filters, Summary, TallyStore

_ALL = 1 << 30  # "every activity" for the per-day popularity query

# One drawing at a time per store in this process. A page asks for the same release from
# several requests at once (the dashboard's popularity and unopened lists share one); the
# store keeps the budget right across processes, but without this each request would draw
# the noise and spend before all but one give their spending back, and a privacy report
# read meanwhile would show that passing over-spend.
_drawing: weakref.WeakKeyDictionary[TallyStore, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Released:
    """The days a window's released figures cover (closed days only) and what they cost."""

    first_day: int
    last_day: int  # < first_day when the window holds no closed day
    spent: dict[int, float]


def release_key(kind: str, filters: Filters, day: int, activity: str = "") -> str:
    """The one name of a release: what, under which filters, of which day."""
    return orjson.dumps([kind, activity, day, sorted(
        (k, v) for k, v in vars(filters).items() if v is not None)]).decode()


async def _releases(store: TallyStore, privacy: Privacy, keys: dict[int, str],
                    draw: Callable[[int], Awaitable[Any]]) -> dict[int, Any]:
    """The release of each day in `keys`, drawn now (once) for the days not released yet,
    or BudgetSpent if any of those days cannot pay for it (then none is drawn)."""
    held = await store.released(keys.values())
    if all(key in held for key in keys.values()):
        return {day: held[key] for day, key in keys.items()}
    async with _drawing.setdefault(store, asyncio.Lock()):
        held = await store.released(keys.values())  # drawn by a request we waited for
        return await _draw_missing(store, privacy, keys, held, draw)


async def _draw_missing(store: TallyStore, privacy: Privacy, keys: dict[int, str],
                        held: dict[str, Any], draw: Callable[[int], Awaitable[Any]]
                        ) -> dict[int, Any]:
    missing = [day for day, key in keys.items() if key not in held]
    if missing:
        spent = await store.spent(min(missing), max(missing))
        short = [day for day in missing
                 if spent.get(day, 0.0) + privacy.epsilon > privacy.budget_per_day * (1 + 1e-9)]
        if short:
            raise budget_spent([day_of(d).isoformat() for d in short], privacy,
                               max(spent.get(d, 0.0) for d in short))
        for day in missing:
            value = await store.release(keys[day], day, privacy.epsilon,
                                        privacy.budget_per_day, await draw(day))
            if value is None:  # spent by concurrent requests meanwhile
                raise budget_spent([day_of(day).isoformat()], privacy, privacy.budget_per_day)
            held[keys[day]] = value
    return {day: held[key] for day, key in keys.items()}


def closed_window(first_day: int, last_day: int, open_day: int) -> tuple[int, int]:
    """The closed days of a window: those before the open day."""
    return first_day, min(last_day, open_day - 1)


async def popular_days(store: TallyStore, privacy: Privacy, first_day: int, last_day: int,
                       filters: Filters) -> dict[int, dict[str, dict[str, int]]]:
    """Per closed day: {"hits": activity → noisy hits, "learners": activity → noisy
    learner estimate}, each a noisy-threshold release at half the release's epsilon."""
    half, half_delta = privacy.epsilon / 2, privacy.delta / 2

    async def draw(day: int) -> dict[str, dict[str, int]]:
        rows = await store.popular(day, day, filters, by="hits", limit=_ALL)
        # One learner adds at most hits_per_bucket to each of at most buckets_per_learner
        # activities, and is one learner in each of those activities' sketches.
        hits = noisy_counts({r.activity: r.hits for r in rows}, epsilon=half,
                            delta=half_delta, l0=privacy.buckets_per_learner,
                            linf=privacy.hits_per_bucket)
        learners = noisy_counts({r.activity: round(r.learners) for r in rows}, epsilon=half,
                                delta=half_delta, l0=privacy.buckets_per_learner, linf=1)
        return {"hits": hits, "learners": learners}

    keys = {day: release_key("popular", filters, day) for day in range(first_day, last_day + 1)}
    return await _releases(store, privacy, keys, draw)


def popular_of(days: dict[int, dict[str, dict[str, int]]]) -> list[ActivityCount]:
    """A window's popularity summed from its days' releases (learner-days: each day's sketch
    is released on its own)."""
    hits: Counter[str] = Counter()
    learners: Counter[str] = Counter()
    for value in days.values():
        hits.update(value["hits"])
        learners.update(value["learners"])
    return [ActivityCount(a, n, float(learners.get(a, 0))) for a, n in hits.items()]


async def hours_of_days(store: TallyStore, privacy: Privacy, activity: str, first_day: int,
                        last_day: int, filters: Filters) -> list[tuple[int, int]]:
    """(hour, noisy hits) of one activity over closed days, each day's 24 hours released once
    (one learner adds at most hits_per_bucket to the activity)."""
    async def draw(day: int) -> list[int]:
        points = dict(await store.series(activity, day * DAY_HOURS, (day + 1) * DAY_HOURS - 1,
                                         daily=False, filters=filters))
        return noisy_vector([points.get(day * DAY_HOURS + h, 0) for h in range(DAY_HOURS)],
                            epsilon=privacy.epsilon, l1=privacy.hits_per_bucket)

    keys = {day: release_key("hours", filters, day, activity)
            for day in range(first_day, last_day + 1)}
    released = await _releases(store, privacy, keys, draw)
    return [(day * DAY_HOURS + h, n) for day, values in sorted(released.items())
            for h, n in enumerate(values) if n > 0]


async def summary_days(store: TallyStore, privacy: Privacy, first_day: int, last_day: int,
                       filters: Filters) -> Summary:
    """Hits by verb and by platform summed from closed days' releases; the decision counts
    are withheld (kept statements are not bounded per learner)."""
    half, half_delta = privacy.epsilon / 2, privacy.delta / 2

    async def draw(day: int) -> dict[str, dict[str, int]]:
        totals = await store.summary(day, day, filters)
        # One learner adds at most hits_bound hits in all, spread over any verbs.
        bound = privacy.hits_bound
        return {"by_verb": noisy_counts(totals.by_verb, epsilon=half, delta=half_delta,
                                        l0=bound, linf=bound, l1=bound),
                "by_platform": noisy_counts(totals.by_platform, epsilon=half,
                                            delta=half_delta, l0=bound, linf=bound, l1=bound)}

    keys = {day: release_key("summary", filters, day) for day in range(first_day, last_day + 1)}
    by_verb: Counter[str] = Counter()
    by_platform: Counter[str] = Counter()
    for value in (await _releases(store, privacy, keys, draw)).values():
        by_verb.update(value["by_verb"])
        by_platform.update(value["by_platform"])
    return Summary(sum(by_verb.values()), dict(by_verb), dict(by_platform), {})


async def privacy_report(store: TallyStore, privacy: Privacy, first_day: int, last_day: int
                         ) -> dict[str, Any]:
    """What the API shows with differential privacy on: the parameters, the noisy thresholds,
    the budget spent on the window's closed days and what is left on the most spent one."""
    spent = await store.spent(first_day, last_day) if last_day >= first_day else {}
    most = max(spent.values(), default=0.0)
    return {
        "epsilon": privacy.epsilon, "delta": privacy.delta,
        "budget_per_day": privacy.budget_per_day,
        "remaining": round(max(0.0, privacy.budget_per_day - most), 9),
        "spent": {day_of(d).isoformat(): round(e, 9) for d, e in sorted(spent.items())},
        "released_through": day_of(last_day).isoformat() if last_day >= first_day else None,
        "hits_per_bucket": privacy.hits_per_bucket,
        "buckets_per_learner": privacy.buckets_per_learner,
        "hits_threshold": threshold_of(privacy.epsilon / 2, privacy.delta / 2,
                                       privacy.buckets_per_learner, privacy.hits_per_bucket),
        "counted_as": "learner-days",
    }
