"""Which destinations a statement goes to (pure), what a tallied hit leaves as, the rules' cache."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aggregation.hits import HOUR_MS, Hit
from lrs.forwarding import ForwardingStore, Rule, RuleDecision


def matches(rule: Rule, statement: dict[str, Any], credential_name: str,
            decision: RuleDecision) -> bool:
    """Whether every filter of `rule` holds for this statement."""
    if rule.decision != decision:
        return False
    if rule.verbs and statement["verb"]["id"] not in rule.verbs:
        return False
    if rule.credentials and credential_name not in rule.credentials:
        return False
    if rule.activity:
        obj = statement["object"]
        if obj.get("objectType", "Activity") != "Activity":
            return False
        if rule.activity.endswith("*"):
            return bool(obj["id"].startswith(rule.activity[:-1]))
        return bool(obj["id"] == rule.activity)
    return True


def destinations_for(rules: Sequence[Rule], statement: dict[str, Any], credential_name: str,
                     decision: RuleDecision) -> tuple[str, ...]:
    """The destinations (each once, in rule order) whose rules match."""
    found: dict[str, None] = {}
    for rule in rules:
        if rule.destination not in found and matches(rule, statement, credential_name,
                                                     decision):
            found[rule.destination] = None
    return tuple(found)


def hit_record(hit: Hit) -> dict[str, Any]:
    """A tallied hit as it leaves: resource, verb, platform and hour, exactly as counted
    (DESIGN §4), never with an identity, a credential or a statement id."""
    hour = datetime.fromtimestamp(hit.hour * HOUR_MS / 1000, UTC)
    return {"resource": hit.activity, "verb": hit.verb, "platform": hit.platform,
            "hour": hour.isoformat().replace("+00:00", "Z")}


class RuleCache:
    """The rules as last read from the store, read again after `refresh_seconds` (or at
    once after a change made through this process)."""

    def __init__(self, store: ForwardingStore, refresh_seconds: float) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._rules: list[Rule] = []
        self._read_at: float | None = None

    def invalidate(self) -> None:
        """Read the rules again before their next use."""
        self._read_at = None

    async def current(self) -> list[Rule]:
        """The rules in effect."""
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self._refresh:
            self._rules = await self._store.rules()
            self._read_at = now
        return self._rules
