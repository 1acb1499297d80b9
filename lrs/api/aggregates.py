"""The aggregates API (`/api/v1/aggregates/…`): popularity without identity (DESIGN §4)."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregation.hits import DAY_HOURS, HOUR_MS
from aggregation.release import (
    closed_window,
    hours_of_days,
    popular_days,
    popular_of,
    privacy_report,
    summary_days,
)
from aggregation.report import (
    hours_of,
    popular_report,
    series_report,
    summary_report,
    uniques_report,
    whole_days,
)
from aggregation.store import Filters
from lrs.auth import require
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.http import credential_of, json_bytes
from statements.datatypes import is_iri
from statements.errors import InvalidRequest, Problem

_DEFAULT_DAYS = 7
_MAX_DAYS = 400
_MAX_LIMIT = 1000
FILTERS = ("verb", "activity_type", "platform", "credential")


class Params:
    """Query parameters checked against what an endpoint accepts; errors name the parameter."""

    def __init__(self, request: Request, allowed: Collection[str]) -> None:
        self.values: dict[str, str] = {}
        for name, value in request.query_params.multi_items():
            if name not in allowed:
                raise bad(name, f"not a parameter here (expected one of {sorted(allowed)})")
            if name in self.values:
                raise bad(name, "may appear only once")
            self.values[name] = value

    def window(self) -> tuple[date, date]:
        """`from` and `to`, whole UTC days, inclusive; the last 7 days by default."""
        today = datetime.now(UTC).date()
        last = self._date("to", today)
        if last < date.min + timedelta(days=_DEFAULT_DAYS):  # no default window before it
            raise bad("to", f"must be after {date.min + timedelta(days=_DEFAULT_DAYS)}")
        first = self._date("from", last - timedelta(days=_DEFAULT_DAYS - 1))
        if first > last:
            raise bad("from", "must not be after to")
        if (last - first).days >= _MAX_DAYS:
            raise bad("from", f"a window is at most {_MAX_DAYS} days")
        return first, last

    def iri(self, name: str, *, required: bool = False) -> str | None:
        """An IRI-valued parameter."""
        value = self.values.get(name)
        if value is None and required:
            raise bad(name, "this parameter is required")
        if value is not None and not is_iri(value):
            raise bad(name, "must be an absolute IRI")
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        """One of `options`; the first by default."""
        value = self.values.get(name, options[0])
        if value not in options:
            raise bad(name, f"must be one of {', '.join(options)}")
        return value

    def limit(self) -> int:
        """`limit`, 1 to 1000, default 10."""
        value = self.values.get("limit", "10")
        if not value.isdigit() or not 1 <= int(value) <= _MAX_LIMIT:
            raise bad("limit", f"must be a whole number from 1 to {_MAX_LIMIT}")
        return int(value)

    def filters(self) -> Filters:
        """The dimension filters (`verb`, `activity_type`, `platform`, `credential`)."""
        return Filters(verb=self.iri("verb"), activity_type=self.iri("activity_type"),
                       platform=self.values.get("platform"),
                       credential=self.values.get("credential"))

    def _date(self, name: str, default: date) -> date:
        value = self.values.get(name)
        if value is None:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise bad(name, "must be a date such as 2026-11-28") from None


def bad(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"invalid query parameter '{name}': {message}",
                          (Problem(f"?{name}", message),))


async def reader(request: Request) -> Any:
    require(await credential_of(request), Scope.AGGREGATES_READ)
    return request.app.state


def open_day(settings: Settings) -> int:
    """The oldest day still open (today, or yesterday during the key grace): days before it
    are closed, and only those are released with differential privacy on."""
    now_ms = int(time.time() * 1000) - settings.day_key_grace_minutes * 60_000
    return now_ms // (DAY_HOURS * HOUR_MS)


def window_json(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat()}


async def popular(request: Request) -> Response:
    """The most hit (or most learned-from) activities over a window."""
    state = await reader(request)
    params = Params(request, ("from", "to", "by", "limit", *FILTERS))
    first, last = params.window()
    filters = params.filters()
    # `by=learners` (the name before it was called what it counts) is still accepted: the
    # dashboard's shared links hold it in their address.
    by = params.choice("by", ("hits", "learner_periods", "learners"))
    by = "learner_periods" if by == "learners" else by
    days = whole_days(first, last)
    uniques = uniques_report(*days, state.settings.tally_key_period)
    privacy = state.settings.privacy()
    extra: dict[str, Any] = {}
    if privacy is None:
        counts = await state.storage.tally.popular(
            *days, filters, by="hits" if by == "hits" else "learners", limit=params.limit())
    else:
        closed = closed_window(*days, open_day(state.settings))
        released = await popular_days(state.storage.tally, privacy, *closed, filters)
        rank = (lambda c: (c.hits, c.learners)) if by == "hits" else (
            lambda c: (c.learners, c.hits))
        counts = sorted(popular_of(released), key=rank, reverse=True)[:params.limit()]
        # Each closed day is released on its own: learner figures are learner-days.
        uniques = uniques_report(*days, "day")
        extra["privacy"] = await privacy_report(state.storage.tally, privacy, *closed)
    definitions = await state.storage.activities.definitions(c.activity for c in counts)
    names = {a: d.get("name") for a, d in definitions.items()}
    k = state.settings.suppression_threshold
    return json_bytes(orjson.dumps({
        "window": window_json(first, last), "by": by,
        "uniques": uniques, **extra, "activities": popular_report(counts, names, k)}))


async def series(request: Request) -> Response:
    """Hits over time for one activity, hourly or daily."""
    state = await reader(request)
    params = Params(request, ("activity", "from", "to", "granularity", *FILTERS))
    activity = params.iri("activity", required=True)
    assert activity is not None
    first, last = params.window()
    daily = params.choice("granularity", ("day", "hour")) == "day"
    filters = params.filters()
    privacy = state.settings.privacy()
    extra: dict[str, Any] = {}
    if privacy is None:
        points = await state.storage.tally.series(activity, *hours_of(first, last),
                                                  daily=daily, filters=filters)
    else:
        closed = closed_window(*whole_days(first, last), open_day(state.settings))
        tally = state.storage.tally
        if daily:  # from the popularity releases of the same days and filters: no new cost
            released = await popular_days(tally, privacy, *closed, filters)
            points = [(day, value["hits"][activity]) for day, value in sorted(released.items())
                      if value["hits"].get(activity, 0) > 0]
        else:
            points = await hours_of_days(tally, privacy, activity, *closed, filters)
        extra["privacy"] = await privacy_report(tally, privacy, *closed)
    k = state.settings.suppression_threshold
    return json_bytes(orjson.dumps({"activity": activity, "window": window_json(first, last),
                                    "granularity": "day" if daily else "hour", **extra,
                                    "points": series_report(points, daily=daily, k=k)}))


async def summary(request: Request) -> Response:
    """Totals by verb and platform, and how many statements were kept, tallied, dropped."""
    state = await reader(request)
    params = Params(request, ("from", "to", *FILTERS))
    first, last = params.window()
    privacy = state.settings.privacy()
    extra: dict[str, Any] = {}
    if privacy is None:
        totals = await state.storage.tally.summary(*whole_days(first, last), params.filters())
    else:
        closed = closed_window(*whole_days(first, last), open_day(state.settings))
        totals = await summary_days(state.storage.tally, privacy, *closed, params.filters())
        extra["privacy"] = {**await privacy_report(state.storage.tally, privacy, *closed),
                            "statements": "withheld: kept statements are not bounded per "
                                          "learner, so their counts cannot be released"}
    k = state.settings.suppression_threshold
    return json_bytes(orjson.dumps({"window": window_json(first, last),
                                    **summary_report(totals, k), **extra}))


routes = [
    Route("/aggregates/popular", popular, methods=["GET", "HEAD"]),
    Route("/aggregates/series", series, methods=["GET", "HEAD"]),
    Route("/aggregates/summary", summary, methods=["GET", "HEAD"]),
]
