"""The tally store contract (DESIGN §4-5): counters, sketches, fingerprints, day keys."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aggregation.hits import Hit

Where = Literal["full", "tally"]


@dataclass(frozen=True)
class Tallied:
    """A statement reduced at the door: what the store keeps of it, and nothing more."""

    statement_id: str
    content_hash: str  # for idempotency: a retry is not counted twice; other content is 409
    hit: Hit | None  # None for a voiding statement, which counts nothing itself
    learner: tuple[int, int] | None  # (register, rank) in the (activity, day) sketch
    voids: str | None = None  # the statement this one voids (its hit taken back if tallied)
    clipped: bool = False  # past its learner's contribution bound: counted as clipped only


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
    """Where tallied statements are counted and read back. It writes no batch itself: the
    engine's commit (`lrs.engines.BatchStore`) writes a batch's plan (aggregation.plan),
    kept statements through the statement store and hits through this store's engine."""

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

    async def bound_contributions(self, period: int, pairs: Sequence[tuple[bytes, bytes]],
                                  *, per_bucket: int, buckets: int) -> list[bool]:
        """Differential privacy's contribution bounds: for each (learner, learner-and-activity)
        keyed digest pair (aggregation.privacy.contribution_digests) of the key period
        starting on day `period`, whether its hit is counted (at most `per_bucket` per pair,
        and pairs for at most `buckets` activities per learner) or clipped. The digests are
        deleted, with the period's key, by `purge` once the period closes."""
        ...

    async def released(self, keys: Collection[str]) -> dict[str, Any]:
        """The released (noisy) values held under these release keys."""
        ...

    async def release(self, key: str, day: int, epsilon: float, budget: float, value: Any
                      ) -> Any | None:
        """Store `value` as the release `key` of closed day `day`, spending `epsilon` of the
        day's `budget`; the value released before under `key` if there is one (release
        once); None, storing nothing, when the day's budget cannot pay for it."""
        ...

    async def spent(self, first_day: int, last_day: int) -> dict[int, float]:
        """Epsilon spent so far by each day's releases (days with none left out)."""
        ...

    async def purge(self, *, now_ms: int, today: int) -> None:
        """Drop expired fingerprints, destroy the keys of closed key periods (before the
        period starting on day `today`) and the contribution digests kept under them."""
        ...
