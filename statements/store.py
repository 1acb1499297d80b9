"""The statement store contract every engine implements (DESIGN.md §5)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from statements.attachments import RawAttachment
from statements.enrich import StoredStatement
from statements.query import StatementQuery


@dataclass(frozen=True)
class StatementPage:
    """Statements as stored JSON bytes, in query order, and where the next page starts."""

    statements: list[bytes]
    after: tuple[int, int | str] | None  # None when this is the last page
    last_stored_ms: int | None  # the greatest `stored` among `statements` (Last-Modified)


@dataclass(frozen=True)
class SaveOutcome:
    """What `save` did: the ids newly stored (ids already held with equal content are not)."""

    stored_ids: list[str]


class StatementStore(Protocol):
    """Keeps statements in full and answers xAPI queries over them."""

    async def save(self, statements: Sequence[StoredStatement],
                   attachments: Sequence[RawAttachment] = ()) -> SaveOutcome:
        """Store a batch and its attachment data atomically: all of it, or nothing.

        Attachment data is kept once per SHA-2, however many statements refer to it.

        An id already held with the same content hash is skipped; one held with a different
        hash raises `statements.errors.Conflict` and nothing is written. Voiding is applied
        in the same transaction, whichever of a voiding statement and its target came first.
        """
        ...

    async def get(self, statement_id: str, *, voided: bool) -> bytes | None:
        """One statement by id: a voided one only when `voided`, a live one only when not."""
        ...

    async def get_attachments(self, sha2s: Collection[str]) -> list[RawAttachment]:
        """The stored attachment data among these hashes (unknown hashes are left out)."""
        ...

    async def query(self, query: StatementQuery) -> StatementPage:
        """One page of statements matching `query`, voided statements excluded."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...
