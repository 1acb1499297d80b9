"""Evidence export: kept statements matching a filter, with their attachments, as one zip.

The archive is written as it is read, so it streams: `statements.jsonl` (one statement per
line, oldest first), then `attachments/<sha2>` for each attachment the statements declare
and the store holds, then `manifest.json` (the filter, counts, and the attachments missing).
The zip is written in streaming mode (sizes after each entry, ZIP64 where needed), which
every common unzip reads.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from statements.attachments import declared
from statements.query import StatementQuery
from statements.store import StatementStore

PAGE = 500
ATTACHMENTS_PER_READ = 50


class ZipSink:
    """A write-only, unseekable file: what ZipFile writes is collected until taken."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def export_query(query: StatementQuery) -> StatementQuery:
    """The query an export runs: its filters, oldest first, in pages."""
    return replace(query, ascending=True, limit=PAGE, after=None, mine=None)


async def export_archive(store: StatementStore, query: StatementQuery, *,
                         described: dict[str, Any] | None = None,
                         progress: Callable[[int], None] | None = None
                         ) -> AsyncIterator[bytes]:
    """The zip archive of every kept, live statement matching `query`'s filters (xAPI
    GET /statements semantics: `since`/`until` on `stored`). `progress` is called with the
    number of statements written after each page."""
    sink = ZipSink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    wanted: set[str] = set()
    count = 0
    page_query = export_query(query)
    with archive.open("statements.jsonl", "w", force_zip64=True) as lines:
        while True:
            page = await store.query(page_query)
            for body in page.statements:
                lines.write(body + b"\n")
            parsed = [orjson.loads(body) for body in page.statements]
            wanted.update(a["sha2"].lower() for _, a in declared(parsed))
            count += len(page.statements)
            if progress is not None:
                progress(len(page.statements))
            yield sink.take()
            if page.after is None:
                break
            page_query = replace(page_query, after=page.after)
    found: dict[str, str] = {}  # sha2 → content type
    ordered = sorted(wanted)
    for start in range(0, len(ordered), ATTACHMENTS_PER_READ):
        for attachment in await store.get_attachments(ordered[start:start + ATTACHMENTS_PER_READ]):
            found[attachment.sha2] = attachment.content_type
            with archive.open(f"attachments/{attachment.sha2}", "w", force_zip64=True) as out:
                out.write(attachment.data)
            yield sink.take()
    manifest = {
        "format": "tally-lrs evidence export 1",
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "filter": described or {},
        "statements": count,
        "attachments": dict(sorted(found.items())),  # attachments/<sha2>: content type
        # Declared by reference (fileUrl) or not sent: nothing here to export.
        "attachments_not_held": sorted(wanted - found.keys()),
    }
    archive.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    archive.close()
    yield sink.take()
