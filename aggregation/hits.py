"""Reducing a statement to a Hit (DESIGN §4): what is counted, with no identity at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statements.datatypes import parse_timestamp

HOUR_MS = 3_600_000
DAY_HOURS = 24


@dataclass(frozen=True)
class Hit:
    """One tallied statement. These six dimensions are all that survives of it: no actor,
    authority persona, registration, result, extension or free text."""

    activity: str  # the object Activity's IRI ("" when the object is not an Activity)
    verb: str
    activity_type: str  # the object's definition.type ("" when not given)
    platform: str  # context.platform ("" when not given)
    credential: str  # the key of the credential that posted it
    hour: int  # hours since the Unix epoch, UTC (from `timestamp`, else `stored`)

    @property
    def day(self) -> int:
        """Days since the Unix epoch, UTC."""
        return self.hour // DAY_HOURS


def reduce_statement(statement: dict[str, Any], credential: str) -> Hit:
    """The Hit of an enriched statement (one that has `stored`)."""
    obj = statement["object"]
    is_activity = obj.get("objectType", "Activity") == "Activity"
    moment: datetime = parse_timestamp(statement.get("timestamp") or statement["stored"])
    return Hit(
        activity=obj["id"] if is_activity else "",
        verb=statement["verb"]["id"],
        activity_type=obj.get("definition", {}).get("type", "") if is_activity else "",
        platform=statement.get("context", {}).get("platform", ""),
        credential=credential,
        hour=int(moment.timestamp()) * 1000 // HOUR_MS,
    )
