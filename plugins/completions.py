"""Completions of mandatory activities over a window: counts only (the dashboard's
compliance summary), from the statements kept in full because the catalogue matched them,
each judged by its catalogue entry's completion rule (statements.completion), as the roster
report judges them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from plugins.catalogue import Catalogue, CatalogueEntry
from statements.datatypes import parse_timestamp
from statements.indexing import agent_key
from statements.query import StatementQuery
from statements.store import StatementStore

_PAGE = 500


@dataclass
class Completions:
    """One mandatory activity's completions in a window: statements and distinct learners."""

    activity: str
    entry: CatalogueEntry
    statements: int = 0
    _learners: set[str] = field(default_factory=set, repr=False)

    @property
    def learners(self) -> int:
        """How many different people completed it."""
        return len(self._learners)


async def count_completions(store: StatementStore, catalogue: Catalogue, *,
                            start_ms: int, end_ms: int) -> list[Completions]:
    """Completions of each mandatory activity from `start_ms` (inclusive) to `end_ms`
    (exclusive), by the statement's `timestamp`: statements that meet the completion rule of
    the entry that matched the activity (the default rule, when the entry sets none).

    Every activity-kind entry of the catalogue is listed, completed or not; prefix and type
    entries list the activities they matched. A statement counts when its object itself is
    the mandatory activity (completing a lesson whose parent is mandatory is not completing
    the course). Voided statements are not counted (the query leaves them out). Learners are
    told apart by their identifier only in memory, to count them; no identifier is returned.
    """
    found: dict[str, Completions] = {
        e.value: Completions(e.value, e) for e in catalogue if e.kind == "activity"}
    # `stored` is when the statement reached the LRS (Data §2.4.8), after it happened: one
    # that happened in the window was stored after its start, so `since` bounds the scan.
    query = StatementQuery(since_ms=start_ms - 1, limit=_PAGE, ascending=True)
    while True:
        page = await store.query(query)
        for raw in page.statements:
            _count(orjson.loads(raw), catalogue, found, start_ms, end_ms)
        if page.after is None:
            break
        query = StatementQuery(since_ms=start_ms - 1, limit=_PAGE, ascending=True,
                               after=page.after)
    return sorted(found.values(), key=lambda c: (-c.learners, c.activity))


def _count(statement: Mapping[str, Any], catalogue: Catalogue, found: dict[str, Completions],
           start_ms: int, end_ms: int) -> None:
    target = statement["object"]
    if target.get("objectType", "Activity") != "Activity":
        return
    entry = catalogue.match_activity(target)
    if entry is None or entry.completion.reason(statement) is None:
        return
    moment = parse_timestamp(statement.get("timestamp") or statement["stored"])
    if not start_ms <= int(moment.timestamp() * 1000) < end_ms:
        return
    row = found.setdefault(target["id"], Completions(target["id"], entry))
    row.statements += 1
    learner = agent_key(statement["actor"])
    # A Group actor without an identifier (an anonymous group) counts as one statement only.
    if learner is not None:
        row._learners.add(learner)
