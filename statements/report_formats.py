"""Compliance reports rendered as streamed JSON or CSV, a row at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

import orjson

from statements.compliance import ReportRow

CSV_COLUMNS = ("entry", "activity", "agent", "agent_name", "status", "completed_at",
               "completed_statement", "latest_at", "latest_statement", "completion", "success",
               "score_scaled", "score_raw", "score_min", "score_max", "duration",
               "evidence_urls", "flags")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = frozenset({"entry", "activity", "agent", "agent_name", "duration"})


def _row_dict(row: ReportRow, evidence_url: Callable[[str], str]) -> dict[str, Any]:
    data = asdict(row)
    data["evidence"] = [{"id": i, "url": evidence_url(i)} for i in row.evidence]
    return data


async def json_report(rows: AsyncIterator[ReportRow], header: dict[str, Any],
                      evidence_url: Callable[[str], str]) -> AsyncIterator[bytes]:
    """`{…header, "rows": [row, …], "count": n}`, one row per chunk."""
    opening = orjson.dumps(header)[:-1] + (b',"rows":[' if header else b'"rows":[')
    yield opening
    count = 0
    async for row in rows:
        yield (b",\n" if count else b"\n") + orjson.dumps(_row_dict(row, evidence_url))
        count += 1
    yield b'\n],"count":' + str(count).encode() + b"}\n"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Client-supplied text a spreadsheet would run as a formula (OWASP "CSV injection").
    if name in _TEXT_COLUMNS and text.startswith(_FORMULA):
        return "'" + text
    return text


async def csv_report(rows: AsyncIterator[ReportRow], evidence_url: Callable[[str], str]
                     ) -> AsyncIterator[bytes]:
    """RFC 4180 CSV (CRLF line ends, quoted where needed), with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    async for row in rows:
        data = asdict(row)
        data["evidence_urls"] = " ".join(evidence_url(i) for i in row.evidence)
        writer.writerow([_cell(name, data[name]) for name in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
