"""Key periods: days, ISO weeks and months as day numbers."""

from __future__ import annotations

from datetime import date

import pytest

from aggregation.periods import counted_as, period_start, periods_between
from aggregation.report import day_number


@pytest.mark.parametrize(("day", "period", "start"), [
    (date(2026, 12, 3), "day", date(2026, 12, 3)),
    (date(2026, 12, 3), "week", date(2026, 11, 30)),  # a Thursday: its Monday
    (date(2026, 11, 30), "week", date(2026, 11, 30)),
    (date(2026, 12, 6), "week", date(2026, 11, 30)),  # Sunday ends the ISO week
    (date(2027, 1, 1), "week", date(2026, 12, 28)),  # ISO week 53 of 2026
    (date(2026, 12, 31), "month", date(2026, 12, 1)),
    (date(2024, 2, 29), "month", date(2024, 2, 1)),
    (date(1970, 1, 1), "week", date(1969, 12, 29)),
])
def test_period_start(day: date, period: str, start: date) -> None:
    assert period_start(day_number(day), period) == day_number(start)  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "last", "period", "count"), [
    (date(2026, 12, 1), date(2026, 12, 7), "day", 7),
    (date(2026, 12, 1), date(2026, 12, 6), "week", 1),
    (date(2026, 12, 1), date(2026, 12, 7), "week", 2),
    (date(2026, 11, 30), date(2027, 1, 31), "month", 3),
    (date(2026, 12, 3), date(2026, 12, 3), "month", 1),
])
def test_periods_between(first: date, last: date, period: str, count: int) -> None:
    assert periods_between(day_number(first), day_number(last), period) == count  # type: ignore[arg-type]


def test_counted_as_names_the_figure() -> None:
    assert counted_as("week", 1) == "unique learners"
    assert counted_as("day", 7) == "learner-days"
