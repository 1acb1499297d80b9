"""Marks: what the flag-mode door checks found in a kept statement, kept beside it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol


class MarkStore(Protocol):
    """Reads the marks each engine's commit writes beside new kept statements (one row or
    document per statement id: its findings as JSON). A statement's own JSON, as GET
    /statements returns it, never carries them."""

    async def of(self, statement_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """The findings kept for each of these statement ids that has any."""
        ...
