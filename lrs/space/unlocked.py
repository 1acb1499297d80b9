"""Sealed spaces unlocked in a signed-in session: their keys in this process's memory only,
each dropped after an idle timeout, at sign-out and when the space is destroyed.

Keyed by the session's store key (a hash of the cookie's random id): a browser whose session
ended cannot reach its entry any more, and a process restart locks every space. With several
worker processes an unlock holds in the worker that answered it only (docs/personal-space.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lrs.limits import RateLimiter
from lrs.space.service import SpaceKey


class Unlocked:
    """Unlocked space keys by session."""

    def __init__(self, idle_seconds: float, *, attempts_per_minute: int = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle_seconds
        self._clock = clock
        self._keys: dict[str, tuple[SpaceKey, float]] = {}
        # Passphrase and recovery-code tries per space: each costs scrypt, and guessing
        # is slowed to a few a minute whoever holds the session.
        self.attempts = RateLimiter(attempts_per_minute)

    def hold(self, session: str, key: SpaceKey) -> None:
        """Keep `key` for `session` (replacing what it held)."""
        self._sweep()
        self._keys[session] = (key, self._clock())

    def get(self, session: str, owner: str) -> SpaceKey | None:
        """The key `session` unlocked for `owner`'s space, if still fresh (its use counts as
        activity), else None."""
        self._sweep()
        held = self._keys.get(session)
        if held is None or held[0].owner != owner:
            return None
        self._keys[session] = (held[0], self._clock())
        return held[0]

    def drop(self, session: str) -> bool:
        """Lock `session`'s space; False when it held none."""
        return self._keys.pop(session, None) is not None

    def drop_owner(self, owner: str) -> int:
        """Lock `owner`'s space in every session (their space is being destroyed)."""
        sessions = [s for s, (key, _) in self._keys.items() if key.owner == owner]
        for session in sessions:
            del self._keys[session]
        return len(sessions)

    def __len__(self) -> int:
        self._sweep()
        return len(self._keys)

    def _sweep(self) -> None:
        now = self._clock()
        for session in [s for s, (_, used) in self._keys.items() if now - used >= self._idle]:
            del self._keys[session]
