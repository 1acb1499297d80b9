"""The tally store contract (DESIGN §4-5): counters, sketches, fingerprints, day keys."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aggregation.hits import Hit
from statements.attachments import RawAttachment
from statements.enrich import StoredStatement

Where = Literal["full", "tally"]


@dataclass(frozen=True)
class Tallied:
    """A statement reduced at the door: what the store keeps of it, and nothing more."""

    statement_id: str
    content_hash: str  # for idempotency: a retry is not counted twice; other content is 409
    hit: Hit | None  # None for a voiding statement, which counts nothing itself
    learner: tuple[int, int] | None  # (register, rank) in the (activity, day) sketch
    voids: str | None = None  # the tallied statement whose hit this one takes back


@dataclass(frozen=True)
class Filters:
    """Optional filters of the aggregate queries (each an exact match)."""

    verb: str | None = None
    activity_type: str | None = None
    platform: str | None = None
    credential: str | None = None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class ActivityCount:
    """One activity's figures over a window; `learners` is an HLL estimate."""

    activity: str
    hits: int
    learners: float


@dataclass(frozen=True)
class Summary:
    """Totals over a window."""

    hits: int
    by_verb: dict[str, int] = field(default_factory=dict)
    by_platform: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)  # full / tally / drop


class TallyStore(Protocol):
    """Where tallied statements go; also the one writer of a mixed batch."""

    async def save(self, kept: Sequence[StoredStatement], attachments: Sequence[RawAttachment],
                   tallied: Sequence[Tallied], *, decisions: dict[str, int], day: int,
                   fingerprint_expires_ms: int) -> None:
        """Store a batch whose statements were decided `full` (kept) or `tally`, atomically.

        An id already held, kept or tallied, with the same content hash is skipped (a retry);
        with another hash it raises `statements.errors.Conflict` and nothing is written.
        `decisions` (full/tally/drop → count) is added to the day's decision counters.
        """
        ...

    async def where(self, statement_ids: Collection[str]) -> dict[str, Where]:
        """For each id held, whether it was kept in full or tallied (unexpired fingerprint)."""
        ...

    async def day_key(self, day: int, *, today: int) -> bytes | None:
        """The secret key of a day's learner hashes, created on first use; None once the day
        is closed (before `today`), because then it has been destroyed."""
        ...

    async def popular(self, first_day: int, last_day: int, filters: Filters, *,
                      by: Literal["hits", "learners"], limit: int) -> list[ActivityCount]:
        """The most hit (or most learned-from) activities over whole UTC days."""
        ...

    async def series(self, activity: str, first_hour: int, last_hour: int, *,
                     daily: bool, filters: Filters = NO_FILTERS) -> list[tuple[int, int]]:
        """(hour or day, hits) for one activity, buckets with no hit left out."""
        ...

    async def summary(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                      ) -> Summary:
        """Totals by verb, by platform and by decision over whole UTC days; `filters`
        narrow the hit totals (the decision counts have no dimensions and are not narrowed)."""
        ...

    async def seen(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                   ) -> set[str]:
        """The activities with at least one hit over whole UTC days (for "never opened")."""
        ...

    async def purge(self, *, now_ms: int, today: int) -> None:
        """Drop expired fingerprints and destroy the keys of closed days."""
        ...
