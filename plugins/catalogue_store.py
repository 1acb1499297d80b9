"""The compliance catalogue's store contract, and a per-process cache of it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from plugins.catalogue import Catalogue, CatalogueEntry


class CatalogueStore(Protocol):
    """Keeps the catalogue entries; an entry is known by (kind, value)."""

    async def entries(self) -> list[CatalogueEntry]:
        """Every entry, in a stable order."""
        ...

    async def add(self, entries: Sequence[CatalogueEntry]) -> None:
        """Add entries, replacing those with the same (kind, value)."""
        ...

    async def remove(self, kind: str, value: str) -> bool:
        """Remove one entry; False when there was none."""
        ...

    async def replace(self, entries: Sequence[CatalogueEntry]) -> None:
        """Make these the whole catalogue, atomically."""
        ...


class CachedCatalogue:
    """The catalogue as the retention chain sees it: reread from the store at most every
    `refresh_seconds`, so changes made by any process apply to statements arriving after."""

    def __init__(self, store: CatalogueStore, refresh_seconds: float) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._catalogue = Catalogue([])
        self._read_at = float("-inf")

    async def refresh(self, *, force: bool = False) -> None:
        """Reread the store if the cached copy is stale (or `force`)."""
        if force or time.monotonic() - self._read_at >= self._refresh:
            self._catalogue = Catalogue(await self._store.entries())
            self._read_at = time.monotonic()

    def current(self) -> Catalogue:
        """The cached catalogue."""
        return self._catalogue
