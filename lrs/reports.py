"""What a compliance report covers and how each part is judged, for the API and the CLI alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from plugins.catalogue import Catalogue, CatalogueEntry
from statements.completion import Period
from statements.compliance import (
    ComplianceStore,
    Judgement,
    ReportRow,
    Target,
    Window,
    parse_activity,
    report,
)
from statements.errors import InvalidRequest, Problem
from statements.marks import MarkStore

MARK_BATCH = 500  # report rows whose deciding statements' marks are looked up at once

# One part of a report: its label ("activity:IRI"), its activities, and how it is judged.
Part = tuple[str, Target, Judgement]


def report_parts(entries: Sequence[CatalogueEntry], *, activity: str | None,
                 prefix: str | None, as_of: str, default_warning: Period
                 ) -> tuple[list[Part], list[str]]:
    """The parts of a report on one activity, one prefix or (neither) every catalogue
    entry, and the entries that cannot be reported (`type` ones: statements are not
    indexed by activity type). Each part is judged by the rules of its catalogue entry
    (for a single activity, the entry that makes it mandatory, as at the door), or the
    default rule outside the catalogue. InvalidRequest names a bad `?activity`/`?prefix`."""
    if activity is not None and prefix is not None:
        raise InvalidRequest("give activity or prefix, not both",
                             (Problem("?prefix", "not allowed with activity"),))
    if activity is not None:
        activity = parse_activity(activity)
        found = Catalogue(entries).match_activity({"id": activity})
        return [(f"activity:{activity}", Target(activity=activity),
                 _judgement(found, as_of, default_warning))], []
    if prefix is not None:
        prefix = parse_activity(prefix, "prefix")
        found = next((e for e in entries if (e.kind, e.value) == ("prefix", prefix)), None)
        return [(f"prefix:{prefix}", Target(prefix=prefix),
                 _judgement(found, as_of, default_warning))], []
    parts: list[Part] = []
    skipped: list[str] = []
    for entry in entries:
        label = f"{entry.kind}:{entry.value}"
        if entry.kind == "type":
            skipped.append(label)
            continue
        target = Target(activity=entry.value) if entry.kind == "activity" \
            else Target(prefix=entry.value)
        parts.append((label, target, _judgement(entry, as_of, default_warning)))
    return parts, skipped


def _judgement(entry: CatalogueEntry | None, as_of: str, default_warning: Period) -> Judgement:
    if entry is None:
        return Judgement(as_of=as_of)
    return Judgement(as_of=as_of, rule=entry.completion, valid_for=entry.valid_for,
                     warn_before=entry.warn_before or default_warning)


async def report_rows(store: ComplianceStore, parts: Sequence[Part], window: Window,
                      roster: Sequence[tuple[str, dict[str, Any]]] | None,
                      marks: MarkStore | None = None) -> AsyncIterator[ReportRow]:
    """The rows of every part, in order; with `marks`, each row's `flags` names the
    door-check marks (check:rule, docs/cmi5.md, docs/profiles.md) of its deciding statement,
    looked up for MARK_BATCH rows at a time."""
    held: list[ReportRow] = []
    for label, target, judgement in parts:
        async for row in report(store, label, target, window, roster, judgement):
            if marks is None:
                yield row
                continue
            held.append(row)
            if len(held) >= MARK_BATCH:
                for flagged in await _flagged(marks, held):
                    yield flagged
                held = []
    if marks is not None and held:
        for flagged in await _flagged(marks, held):
            yield flagged


async def _flagged(marks: MarkStore, rows: list[ReportRow]) -> list[ReportRow]:
    """`rows` with the flags of their deciding statements, in one look-up."""
    decided = {row.decided_by for row in rows if row.decided_by is not None}
    found = await marks.of(decided) if decided else {}
    for row in rows:
        if row.decided_by is not None and found.get(row.decided_by):
            row.flags = " ".join(f"{m['check']}:{m['rule']}" for m in found[row.decided_by])
    return rows
