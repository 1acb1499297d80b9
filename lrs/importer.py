"""`lrs import`: statements from a file or another LRS, down the API's own path
(lrs.ingest.Ingest), in batches, idempotent and resumable (docs/import.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from lrs.config import Settings
from lrs.credentials import Credential
from lrs.erasure import ErasedPeople, erased_people
from lrs.errors import STATUS
from lrs.import_sources import ImportFailed, Item, Source, import_files_dir, unwrap
from lrs.ingest import Ingest, build_ingest
from lrs.storage import Storage
from plugins.catalogue_store import CachedCatalogue
from plugins.hookspecs import Decision
from statements.attachments import render_multipart
from statements.datatypes import format_timestamp, from_ms, parse_timestamp, timestamp_ms
from statements.erasure import DELETE
from statements.errors import StoreUnavailable, XapiError
from statements.versions import XapiVersion

__all__ = ["ImportFailed", "ImportSummary", "Importer", "import_files", "import_files_dir"]

# Ids of statements imported without one: a UUID v5 of their content, so a second import of
# the same file gives them the same ids and stores nothing twice.
IMPORT_NAMESPACE = uuid.UUID("6f1d0a52-2f4e-5b8e-9c61-5a0f1e7d2c11")


def derived_id(statement: dict[str, Any]) -> str:
    """The id given to a statement imported without one (UUID v5 of its canonical JSON)."""
    canonical = orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)
    return str(uuid.uuid5(IMPORT_NAMESPACE, hashlib.sha256(canonical).hexdigest()))


def import_files(settings: Settings, source: Source) -> tuple[Path, Path]:
    """The checkpoint and rejects files of one source, in the data directory: a readable
    name and a digest of the source's identity (path, or peer URL, key and since)."""
    digest = hashlib.sha256(source.identity.encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name.split("//")[-1]).strip("_")[:60]
    base = import_files_dir(settings) / f"{stem}-{digest}"
    return Path(f"{base}.checkpoint.json"), Path(f"{base}.rejects.jsonl")


@dataclass
class ImportSummary:
    """What an import did. `held` counts statements already stored (kept or tallied)."""

    counts: Counter[str] = field(default_factory=Counter)
    already_done: bool = False

    def line(self) -> str:
        """One line for the terminal."""
        c = self.counts
        line = (f"kept {c['kept']}, tallied {c['tallied']}, dropped {c['dropped']}, "
                f"already held {c['held']}, rejected {c['rejected']}")
        if c["stored_from"]:
            line += (f"; stored from {format_timestamp(from_ms(c['stored_from']))} to "
                     f"{format_timestamp(from_ms(c['stored_to']))}")
        if c["erased"] or c["redacted"]:
            line += (f"; of people erased since: {c['erased']} statements left out, "
                     f"{c['redacted']} without them")
        return line


_STORE_ATTEMPTS = 8  # 15 s apart: the minute or two MongoDB may need (Importer._ingest)
_STORE_RETRY_SECONDS = 15.0


def _prepare(item: Item, erased: ErasedPeople) -> Item:
    if item.body is None:
        return item
    try:
        value = orjson.loads(item.body)
    except orjson.JSONDecodeError as exc:
        return dataclasses.replace(item, body=None, problem=f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        return dataclasses.replace(item, body=None,
                                   problem="a statement must be a JSON object")
    unwrapped = unwrap(value)  # a Learning Locker document: its `statement`
    raw = item.body if unwrapped is value else orjson.dumps(unwrapped)
    value = unwrapped
    if value.get("id") is None:  # derived from the statement as written: the same every time
        value = {"id": derived_id(value), **value}
        raw = orjson.dumps(value)
    item = dataclasses.replace(item, body=raw, statement_id=value["id"]
                               if isinstance(value["id"], str) else None)
    plan = erased.plan(value)
    if plan == DELETE:
        return dataclasses.replace(item, body=None, erasure="erased")
    if plan is not None:
        return dataclasses.replace(item, body=orjson.dumps(plan), erasure="redacted")
    return item


def _stored_ms(body: bytes) -> int | None:
    stored = orjson.loads(body).get("stored")
    try:
        return timestamp_ms(parse_timestamp(stored)) if isinstance(stored, str) else None
    except ValueError:
        return None  # the ingest names it


@dataclass
class Importer:
    """One import of one source as one credential.

    `keep_lrs_set`: keep each statement's own `stored` and `authority` (a migration, the
    default of `lrs import`); otherwise they are the import's, as for a POST.
    """

    storage: Storage
    settings: Settings
    credential: Credential
    source: Source
    version: XapiVersion
    batch_size: int = 200
    progress: Callable[[int, int | None], None] | None = None  # (done, total) in source units
    keep_lrs_set: bool = True
    checkpoint: Path = field(init=False)
    rejects: Path = field(init=False)
    # Statements the store accepted since the last checkpoint, new or already held.
    _accepted: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.checkpoint, self.rejects = import_files(self.settings, self.source)

    async def run(self, *, restart: bool = False) -> ImportSummary:
        """Import the source from its checkpoint (or the start), batch by batch."""
        checkpoint = self.checkpoint
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        fingerprint = self.source.fingerprint()
        state: dict[str, Any] = {"source": self.source.identity, "file_sha256": fingerprint,
                                 "position": 0, "line": 0, "rejects_bytes": 0, "counts": {},
                                 "done": False}
        if checkpoint.exists() and not restart:
            saved = orjson.loads(checkpoint.read_bytes())
            if saved.get("file_sha256") != fingerprint:
                raise ImportFailed(f"{checkpoint} belongs to another version of the file: "
                                   "remove it or pass --restart")
            state = saved
        summary = ImportSummary(Counter(state["counts"]))
        if state["done"]:
            summary.already_done = True
            return summary
        with self.rejects.open("ab") as out:
            out.truncate(state["rejects_bytes"])
        erased = await erased_people(self.storage)
        total = self.source.total()
        decided: Counter[Decision] = Counter()

        def count(_name: str, decisions: Sequence[Decision]) -> None:
            decided.update(decisions)  # only the statements stored for the first time

        catalogue = CachedCatalogue(self.storage.catalogue, 0)
        await catalogue.refresh()
        ingest = await build_ingest(self.storage, self.settings, catalogue=catalogue,
                                    count_decisions=count)
        async for batch, after in self.source.batches(state, self.batch_size):
            await self._batch(ingest, [_prepare(i, erased) for i in batch], summary)
            state.update(after)
            summary.counts.update(self._drain(decided))
            self._save(state, summary, total)
        state["done"] = True
        self._save(state, summary, total)
        return summary

    def _drain(self, decided: Counter[Decision]) -> Counter[str]:
        # Statements already held were accepted but stored and counted nothing: held.
        out: Counter[str] = Counter({"kept": decided[Decision.FULL],
                                     "tallied": decided[Decision.TALLY],
                                     "dropped": decided[Decision.DROP],
                                     "held": self._accepted - decided.total()})
        decided.clear()
        self._accepted = 0
        return out

    async def _batch(self, ingest: Ingest, batch: list[Item], summary: ImportSummary) -> None:
        if not batch:
            return
        good = [i for i in batch if i.body is not None]
        rejected: list[tuple[Item, int, str, list[dict[str, str]]]] = [
            (i, 400, i.problem or "", []) for i in batch if i.body is None and not i.erasure]
        if left_out := sum(i.erasure == "erased" for i in batch):
            summary.counts["erased"] += left_out
        redacted = [i for i in good if i.erasure == "redacted"]
        if redacted:
            # Already stored (rewritten by the erasure, or without them by an earlier
            # import): held, as it is. Sent again, neither form would match what is stored.
            held = await self.storage.tally.where([i.statement_id or "" for i in redacted])
            if already := {id(i) for i in redacted if i.statement_id in held}:
                summary.counts["held"] += len(already)
                good = [i for i in good if id(i) not in already]
        if good:
            try:
                await self._ingest(ingest, good)
            except XapiError:
                # Something in the batch is wrong: one at a time, to find which.
                for item in good:
                    try:
                        await self._ingest(ingest, [item])
                    except XapiError as exc:
                        rejected.append((item, _status(exc), exc.message, [
                            {"path": _single(p.path), "message": p.message}
                            for p in exc.problems]))
        if rejected:
            with self.rejects.open("ab") as out:
                for item, status, message, problems in sorted(rejected,
                                                              key=lambda r: r[0].position):
                    out.write(orjson.dumps({
                        "line": item.position, "id": item.statement_id, "status": status,
                        "message": message, "problems": problems}) + b"\n")
            summary.counts["rejected"] += len(rejected)
        not_stored = {id(r[0]) for r in rejected}
        if stored := sum(i.erasure == "redacted" and id(i) not in not_stored for i in good):
            summary.counts["redacted"] += stored
        if self.keep_lrs_set:  # the range of `stored` brought in, for since-based readers
            kept = [ms for i in good if id(i) not in not_stored
                    and (ms := _stored_ms(i.body or b"{}")) is not None]
            if kept:
                c = summary.counts
                c["stored_from"] = min(kept + ([c["stored_from"]] if c["stored_from"] else []))
                c["stored_to"] = max([*kept, c["stored_to"]])

    async def _ingest(self, ingest: Ingest, items: list[Item]) -> None:
        # A batch is idempotent, so a store that is briefly unavailable is waited for: after
        # an interrupted import, MongoDB holds the killed process's transaction (and the ids
        # it wrote) until the server expires it, about a minute later.
        body = b"[" + b",".join(i.body or b"" for i in items) + b"]"
        content_type = "application/json"
        attachments = {a.sha2: a for i in items for a in i.attachments}
        if attachments:  # Communication §1.5.2: raw attachments travel as multipart/mixed
            body, content_type = render_multipart(body, list(attachments.values()))
        for attempt in range(_STORE_ATTEMPTS):
            try:
                ids = await ingest(body, content_type=content_type, version=self.version,
                                   credential=self.credential, keep_lrs_set=self.keep_lrs_set)
                self._accepted += len(ids)
                return
            except StoreUnavailable:
                if attempt == _STORE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_STORE_RETRY_SECONDS)

    def _save(self, state: dict[str, Any], summary: ImportSummary, total: int | None) -> None:
        # Written after the batch is committed: a kill before this line re-imports the batch
        # on resume, which stores nothing twice (ids are checked as the API checks them).
        state["counts"] = dict(summary.counts)
        state["rejects_bytes"] = self.rejects.stat().st_size if self.rejects.exists() else 0
        temporary = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        temporary.write_bytes(orjson.dumps(state))
        os.replace(temporary, self.checkpoint)
        if self.progress is not None:
            done = state["position"] or state["line"]
            self.progress(total if state["done"] and total else done, total)


def _single(path: str) -> str:
    # The statement was sent alone: paths are relative to it, whatever the store says.
    return "$" + path.removeprefix("$[0]") if path.startswith("$[0]") else path


def _status(exc: XapiError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
