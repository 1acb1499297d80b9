"""Key periods of the learner hashes (DESIGN §4): a UTC day, an ISO week or a month."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

KeyPeriod = Literal["day", "week", "month"]

_EPOCH = date(1970, 1, 1)  # a Thursday: ISO weekday 4


def period_start(day: int, period: KeyPeriod) -> int:
    """The first day (days since the epoch, UTC) of the key period holding `day`: the day
    itself, the Monday of its ISO week, or the first of its month. One key per period, named
    by this day, is used for every learner hash of the period and destroyed when it closes."""
    if period == "day":
        return day
    if period == "week":
        return day - (day + 3) % 7  # day 0 is a Thursday, ISO weekday index 3
    moment = _EPOCH + timedelta(days=day)
    return (moment.replace(day=1) - _EPOCH).days


def periods_between(first_day: int, last_day: int, period: KeyPeriod) -> int:
    """How many key periods a window of whole days touches (1: its uniques are true uniques)."""
    starts = {period_start(first_day, period)}
    day = first_day
    while (start := period_start(day, period)) <= period_start(last_day, period):
        starts.add(start)
        day = _next_start(start, period)
    return len(starts)


def _next_start(start: int, period: KeyPeriod) -> int:
    if period == "day":
        return start + 1
    if period == "week":
        return start + 7
    moment = _EPOCH + timedelta(days=start)
    following = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - _EPOCH).days


def counted_as(period: KeyPeriod, periods: int) -> str:
    """What a unique-learner figure over `periods` key periods counts, in words."""
    return "unique learners" if periods == 1 else f"learner-{period}s"
