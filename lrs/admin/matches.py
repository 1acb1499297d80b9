"""Which kept statements a catalogue entry matches, counted per activity: what an admin checks
after adding an entry (the console's "see which statements matched")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from plugins.catalogue import Catalogue, CatalogueEntry
from statements.query import StatementQuery
from statements.store import StatementStore

_PAGE = 500


@dataclass
class Matches:
    """How many kept (live) statements the entry matches, and by which activity."""

    entry: CatalogueEntry
    statements: int = 0
    by_activity: Counter[str] = field(default_factory=Counter)


def matched_activity(catalogue: Catalogue, statement: Mapping[str, Any]) -> str | None:
    """The id of the activity by which `catalogue` makes `statement` mandatory: its object,
    else the first parent or grouping activity that matches (the order of
    Catalogue.matches), or None when the catalogue does not match the statement."""
    if catalogue.matches(statement) is None:
        return None
    target = statement.get("object")
    if isinstance(target, Mapping) and target.get("objectType", "Activity") == "Activity" \
            and catalogue.match_activity(target) is not None:
        return str(target.get("id"))
    related = (statement.get("context") or {}).get("contextActivities") or {}
    for key in ("parent", "grouping"):
        value = related.get(key)
        for activity in value if isinstance(value, list) else [value] if value else []:
            if catalogue.match_activity(activity) is not None:
                return str(activity.get("id"))
    return None  # pragma: no cover - matches() looked at the same places


async def catalogue_matches(store: StatementStore, entry: CatalogueEntry) -> Matches:
    """Count the kept statements `entry` matches, voided ones left out (the query leaves
    them out). An activity entry reads only the statements related to that activity (an
    index); a prefix or type entry reads every kept statement, a page at a time: kept
    statements are the compliance ones, a small part of what the LRS receives."""
    catalogue = Catalogue([entry])
    found = Matches(entry)
    query = StatementQuery(limit=_PAGE, ascending=True)
    if entry.kind == "activity":
        query = replace(query, activity=entry.value, related_activities=True)
    while True:
        page = await store.query(query)
        for raw in page.statements:
            activity = matched_activity(catalogue, orjson.loads(raw))
            if activity is not None:
                found.statements += 1
                found.by_activity[activity] += 1
        if page.after is None:
            return found
        query = replace(query, after=page.after)
