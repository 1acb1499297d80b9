"""The `stored` clock and X-Experience-API-Consistent-Through (Communication §2.1.3.s2.b5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StoredClock:
    """Hands out `stored` times that never go backwards in this process, and knows which
    are still being written, so Consistent-Through never runs ahead of what is queryable."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last = datetime.min.replace(tzinfo=UTC)
        self._in_flight: Counter[datetime] = Counter()

    def begin(self) -> datetime:
        """A `stored` time for a write about to start; pair with `end`."""
        moment = max(self._now(), self._last)
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        self._last = moment
        self._in_flight[moment] += 1
        return moment

    def end(self, moment: datetime) -> None:
        """The write that `begin` returned `moment` for is committed or abandoned."""
        self._in_flight[moment] -= 1
        if self._in_flight[moment] <= 0:
            del self._in_flight[moment]

    def now_ms(self) -> int:
        """Now, in milliseconds since the epoch (document update times)."""
        return (self._now() - _EPOCH) // _MS

    def consistent_through(self) -> datetime:
        """Every statement stored before this instant is visible to queries."""
        if self._in_flight:
            return min(self._in_flight) - _MS
        return self._now()
