"""What is not used and what is done: never-opened activities and completions of mandatory
activities (`/api/v1/aggregates/unopened`, `/api/v1/aggregates/compliance`), counts only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregation.hits import HOUR_MS
from aggregation.release import closed_window, popular_days
from aggregation.report import hours_of, suppress, whole_days
from lrs.api.aggregates import FILTERS, Params, open_day, reader, window_json
from lrs.http import json_bytes
from plugins.completions import count_completions
from statements.query import StatementQuery

# "Known" activities: the catalogue's, and those hit in this many days up to the window's end.
KNOWN_DAYS = 365


async def unopened(request: Request) -> Response:
    """Known activities with no hit in the window (under the filters given)."""
    state = await reader(request)
    params = Params(request, ("from", "to", "limit", *FILTERS))
    first, last = params.window()
    filters = params.filters()
    limit = params.limit()
    since = last - timedelta(days=KNOWN_DAYS - 1)
    tally = state.storage.tally
    await state.catalogue.refresh()
    mandatory = {e.value: e for e in state.catalogue.current() if e.kind == "activity"}
    privacy = state.settings.privacy()
    if privacy is None:
        known = await tally.seen(*whole_days(since, last))
        opened = await tally.seen(*whole_days(first, last), filters)
    else:
        # Whether an activity was hit at all is private too: opened from the released
        # popularity of the window's closed days (noisy threshold), known from the catalogue.
        closed = closed_window(*whole_days(first, last), open_day(state.settings))
        opened = {a for value in (await popular_days(tally, privacy, *closed, filters)).values()
                  for a in value["hits"]}
        known = set(opened)
    start_hour, end_hour = hours_of(first, last)
    # Statements about mandatory activities are kept, not tallied: one is opened when a kept
    # statement about it (with the verb asked for) was stored in the window.
    for activity in sorted(set(mandatory) - opened):
        page = await state.storage.statements.query(StatementQuery(
            activity=activity, verb=filters.verb, since_ms=start_hour * HOUR_MS - 1,
            until_ms=(end_hour + 1) * HOUR_MS - 1, limit=1))
        if page.statements:
            opened.add(activity)
    never = sorted((known | set(mandatory)) - opened - {""})  # "": objects not Activities
    shown = never[:limit]
    names = await _names(state, shown)
    for activity in shown:
        entry = mandatory.get(activity)
        if activity not in names and entry is not None and entry.name:
            names[activity] = {"und": entry.name}  # the catalogue's name, language unknown
    return json_bytes(orjson.dumps({
        "window": window_json(first, last), "known_since": since.isoformat(),
        "total": len(never),
        "activities": [{"activity": a, "name": names.get(a), "mandatory": a in mandatory}
                       for a in shown]}))


async def compliance(request: Request) -> Response:
    """For each mandatory activity, how many people completed it in the window."""
    state = await reader(request)
    params = Params(request, ("from", "to"))
    first, last = params.window()
    start_hour, end_hour = hours_of(first, last)
    await state.catalogue.refresh()
    rows = await count_completions(state.storage.statements, state.catalogue.current(),
                                   start_ms=start_hour * HOUR_MS,
                                   end_ms=(end_hour + 1) * HOUR_MS)
    names = await _names(state, [r.activity for r in rows])
    k = state.settings.suppression_threshold
    return json_bytes(orjson.dumps({
        "window": window_json(first, last), "rule": "each entry's completion rule",
        "activities": [{"activity": r.activity, "name": names.get(r.activity),
                        "entry": {"kind": r.entry.kind, "value": r.entry.value,
                                  "name": r.entry.name},
                        "learners": suppress(r.learners, k),
                        "statements": suppress(r.statements, k)} for r in rows]}))


async def _names(state: Any, activities: list[str]) -> dict[str, Any]:
    """Display names (language maps) from the canonical definitions, where known."""
    definitions = await state.storage.activities.definitions(activities)
    return {a: d["name"] for a, d in definitions.items() if "name" in d}


routes = [
    Route("/aggregates/unopened", unopened, methods=["GET", "HEAD"]),
    Route("/aggregates/compliance", compliance, methods=["GET", "HEAD"]),
]
