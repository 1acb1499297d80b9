"""Retention periods of kept statements: which class a statement is in, and how long it stays.

The first of these that gives a period wins (docs/retention.md):
1. the compliance catalogue entry the statement matches, if it has `retention_days`;
2. the statement's verb, in the configured `retention_verb_days`;
3. the configured `retention_default_days`;
otherwise the statement is kept for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plugins.catalogue import Catalogue

DAY_MS = 86_400_000


@dataclass(frozen=True)
class RetentionClass:
    """A class of kept statement and its period in days (None: for ever)."""

    name: str  # "catalogue:<kind>:<value>", "verb:<iri>" or "default"
    days: int | None


@dataclass(frozen=True)
class RetentionPolicy:
    """The retention periods in force."""

    catalogue: Catalogue
    verb_days: Mapping[str, int] = field(default_factory=dict)
    default_days: int | None = None

    def classify(self, statement: Mapping[str, Any]) -> RetentionClass:
        """The class of one kept statement."""
        entry = self.catalogue.matches(statement)
        if entry is not None and entry.retention_days is not None:
            return RetentionClass(f"catalogue:{entry.kind}:{entry.value}", entry.retention_days)
        verb = statement["verb"]["id"]
        if verb in self.verb_days:
            return RetentionClass(f"verb:{verb}", self.verb_days[verb])
        return RetentionClass("default", self.default_days)

    def shortest_days(self) -> int | None:
        """The shortest period of any class: nothing younger can be due."""
        periods = [e.retention_days for e in self.catalogue if e.retention_days is not None]
        periods += list(self.verb_days.values())
        if self.default_days is not None:
            periods.append(self.default_days)
        return min(periods, default=None)

    def expired(self, statement: Mapping[str, Any], stored_ms: int, now_ms: int
                ) -> RetentionClass | None:
        """The statement's class if its period has passed since it was stored, else None."""
        found = self.classify(statement)
        if found.days is not None and stored_ms < now_ms - found.days * DAY_MS:
            return found
        return None
