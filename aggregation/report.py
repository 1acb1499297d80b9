"""Aggregate figures as reported: small groups suppressed (DESIGN §4), windows in days."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aggregation.hits import DAY_HOURS
from aggregation.periods import KeyPeriod, counted_as, periods_between
from aggregation.store import ActivityCount, Summary

_EPOCH = date(1970, 1, 1)


def suppress(value: float, k: int) -> int | dict[str, int]:
    """A count or estimate, or `{"fewer_than": k}` when it is below k: a small group is never
    shown as its size, so nobody can be singled out by a figure of 1 or 2."""
    rounded = round(value)
    return {"fewer_than": k} if rounded < k else rounded


def day_number(day: date) -> int:
    """Days since the Unix epoch."""
    return (day - _EPOCH).days


def day_of(number: int) -> date:
    """The inverse of day_number."""
    return _EPOCH + timedelta(days=number)


def hour_label(hour: int) -> str:
    """An epoch hour as an ISO 8601 UTC instant."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)).strftime(
        "%Y-%m-%dT%H:00:00Z")


def popular_report(counts: list[ActivityCount], names: Mapping[str, Any], k: int
                   ) -> list[dict[str, Any]]:
    """Rows of the popularity report, with display names where definitions are known."""
    return [{"activity": c.activity, "name": names.get(c.activity),
             "hits": suppress(c.hits, k), "learner_periods": suppress(c.learners, k)}
            for c in counts]


def uniques_report(first_day: int, last_day: int, period: KeyPeriod) -> dict[str, Any]:
    """What the `learner_periods` figures of a window count: true unique learners when the
    window lies in one key period, else person-periods (a person counted once per period)."""
    periods = periods_between(first_day, last_day, period)
    return {"key_period": period, "periods": periods, "true_uniques": periods == 1,
            "counted_as": counted_as(period, periods)}


def series_report(points: list[tuple[int, int]], *, daily: bool, k: int
                  ) -> list[dict[str, Any]]:
    """Rows of a time series: ISO day or hour, and its suppressed hit count."""
    return [{"bucket": day_of(b).isoformat() if daily else hour_label(b),
             "hits": suppress(n, k)} for b, n in points]


def summary_report(summary: Summary, k: int) -> dict[str, Any]:
    """The summary, every figure suppressed below k."""
    return {
        "hits": suppress(summary.hits, k),
        "by_verb": {v: suppress(n, k) for v, n in summary.by_verb.items()},
        "by_platform": {p or "(none)": suppress(n, k) for p, n in summary.by_platform.items()},
        "statements": {d: suppress(n, k) for d, n in summary.decisions.items()},
    }


def whole_days(first: date, last: date) -> tuple[int, int]:
    """A window of whole UTC days as (first, last) day numbers."""
    return day_number(first), day_number(last)


def hours_of(first: date, last: date) -> tuple[int, int]:
    """A window of whole UTC days as (first, last) epoch hours."""
    return day_number(first) * DAY_HOURS, (day_number(last) + 1) * DAY_HOURS - 1
