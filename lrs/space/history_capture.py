"""My own history at the door: sealed copies of the tallied statements of learners who opted in,
made before the identity is thrown away and committed with the tally's hits."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from lrs.space.history import HistoryStore, OptIn, PendingCopy, owners_in, seal_copy
from plugins.hookspecs import Decision
from statements.enrich import StoredStatement


@dataclass
class HistoryCapture:
    """Makes the pending copies of one request (lrs.ingest); the engine's commit tags and
    writes them. It reads the opt-ins at most every `refresh_seconds` (at once after
    `changed()`); it never reads or changes the tally, so a learner's opt-in changes no
    figure of it."""

    store: HistoryStore
    refresh_seconds: float = 5.0
    _by_agent: dict[str, OptIn] = field(default_factory=dict)
    _read_at: float | None = None

    def changed(self) -> None:
        """An opt-in was made or stopped in this process: read them again next time."""
        self._read_at = None

    async def copies(self, prepared: Sequence[StoredStatement], decisions: Sequence[Decision]
                     ) -> list[PendingCopy]:
        """A sealed copy, for each opted-in learner a tallied statement is by or about, of
        that statement as stored; none for a kept (or dropped) one, which the learner can
        read through their record already."""
        tallied = [p for p, d in zip(prepared, decisions, strict=True) if d is Decision.TALLY]
        if not tallied:
            return []
        by_agent = await self._opt_ins()
        if not by_agent:
            return []
        out: list[PendingCopy] = []
        for p in tallied:
            owners = {by_agent[k].owner: by_agent[k] for k in owners_in(p.statement)
                      if k in by_agent}
            out += [PendingCopy(owner, seal_copy(entry.public_key, entry.space, p.statement),
                                p.id) for owner, entry in sorted(owners.items())]
        return out

    async def _opt_ins(self) -> dict[str, OptIn]:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self.refresh_seconds:
            self._by_agent = {agent: entry for entry in await self.store.opted_in()
                              for agent in entry.agents}
            self._read_at = now
        return self._by_agent
