"""Forwarding (docs/forwarding.md): destinations, rules, the outbox and its delivery worker.

A destination is another xAPI LRS or a webhook; a rule says which statements go to it.
Outbox items are planned with the statements (`aggregation.plan.OutboxItem`) and written in
the same commit; the worker (`lrs.forwarding.worker`) leases, sends, retries and parks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aggregation.plan import OutboxItem

DestinationKind = Literal["xapi", "webhook"]
RuleDecision = Literal["kept", "tallied"]


@dataclass(frozen=True)
class Destination:
    """Where items go. `secret` is the xAPI password or the webhook's shared HMAC secret:
    stored as given (it must be sent), never returned by the API."""

    id: str
    name: str
    kind: DestinationKind
    url: str
    secret: str = ""
    username: str = ""  # xAPI Basic user name
    xapi_version: str = "1.0.3"
    created: str = ""


@dataclass(frozen=True)
class Rule:
    """Which statements go to `destination`: every filter given must match (empty: any).

    `activity` is an IRI, or a prefix when it ends with `*`; `decision` is what the retention
    chain decided (a `tallied` rule forwards only the anonymous hit).
    """

    id: str
    destination: str
    decision: RuleDecision = "kept"
    verbs: tuple[str, ...] = ()
    activity: str = ""
    credentials: tuple[str, ...] = ()
    created: str = ""


@dataclass(frozen=True)
class Leased:
    """An outbox item leased by one worker until `lease_until_ms`."""

    key: str
    destination: str
    statement_id: str | None
    hit: dict[str, Any] | None
    attempts: int
    created_ms: int


@dataclass(frozen=True)
class DestinationStatus:
    """What an admin sees of one destination's delivery."""

    destination: str
    queued: int = 0
    dead: int = 0
    oldest_ms: int | None = None  # created, of the oldest item not delivered
    delivered: int = 0
    last_error: str | None = None
    last_error_ms: int | None = None
    last_delivered_ms: int | None = None


@dataclass(frozen=True)
class DeadLetter:
    """An item that failed `LRS_FORWARDING_MAX_ATTEMPTS` times."""

    key: str
    statement_id: str | None
    attempts: int
    created_ms: int
    last_error: str | None = None
    hit: dict[str, Any] | None = field(default=None)


class ForwardingStore(Protocol):
    """Destinations, rules and the outbox, on each engine."""

    async def open(self) -> None:
        """Create or migrate the schema."""
        ...

    async def add_destination(self, destination: Destination) -> None:
        """Store a new destination (its id and name unused)."""
        ...

    async def destinations(self) -> list[Destination]:
        """Every destination, oldest first."""
        ...

    async def remove_destination(self, destination_id: str) -> bool:
        """Remove a destination with its rules and items; whether it existed."""
        ...

    async def add_rule(self, rule: Rule) -> None:
        """Store a new rule."""
        ...

    async def rules(self) -> list[Rule]:
        """Every rule, oldest first."""
        ...

    async def remove_rule(self, rule_id: str) -> bool:
        """Remove a rule; whether it existed."""
        ...

    async def lease(self, owner: str, *, now_ms: int, lease_ms: int, limit: int
                    ) -> list[Leased]:
        """Lease up to `limit` due items no other worker holds (oldest first), atomically:
        two workers never hold one item at once."""
        ...

    async def delivered(self, destination: str, keys: Sequence[str], owner: str, *,
                        now_ms: int) -> None:
        """Remove items `owner` delivered (an item whose lease was lost stays)."""
        ...

    async def failed(self, destination: str, items: Sequence[Leased], owner: str, *,
                     error: str, now_ms: int, due_ms: Sequence[int], max_attempts: int) -> None:
        """Count a failed attempt for each item: due again at `due_ms`, or dead after
        `max_attempts`; the destination's last error noted."""
        ...

    async def status(self) -> list[DestinationStatus]:
        """Queued, dead, oldest and last error of each destination."""
        ...

    async def dead_letters(self, destination: str, *, limit: int = 100) -> list[DeadLetter]:
        """A destination's dead letters, oldest first."""
        ...

    async def replay(self, destination: str, keys: Sequence[str] | None, *, now_ms: int
                     ) -> int:
        """Queue dead letters again (all of the destination's when `keys` is None)."""
        ...

    async def discard(self, destination: str, keys: Sequence[str] | None) -> int:
        """Delete dead letters (all of the destination's when `keys` is None)."""
        ...


__all__ = ["DeadLetter", "Destination", "DestinationStatus", "ForwardingStore", "Leased",
           "OutboxItem", "Rule"]
