"""`lrs import`: statements from a file, down the API's own path (lrs.ingest.Ingest), in
batches, idempotent and resumable (docs/import.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from lrs.config import Settings
from lrs.credentials import Credential
from lrs.erasure import ErasedPeople, erased_people
from lrs.errors import STATUS
from lrs.ingest import Ingest, build_ingest
from lrs.storage import Storage
from plugins.catalogue_store import CachedCatalogue
from plugins.hookspecs import Decision
from statements.erasure import DELETE
from statements.errors import StoreUnavailable, XapiError
from statements.versions import XapiVersion

# Ids of statements imported without one: a UUID v5 of their content, so a second import of
# the same file gives them the same ids and stores nothing twice.
IMPORT_NAMESPACE = uuid.UUID("6f1d0a52-2f4e-5b8e-9c61-5a0f1e7d2c11")
CHECKPOINT_SUFFIX = ".import-checkpoint.json"
REJECTS_SUFFIX = ".rejects.jsonl"


def derived_id(statement: dict[str, Any]) -> str:
    """The id given to a statement imported without one (UUID v5 of its canonical JSON)."""
    canonical = orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)
    return str(uuid.uuid5(IMPORT_NAMESPACE, hashlib.sha256(canonical).hexdigest()))


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
        if c["erased"] or c["redacted"]:
            line += (f"; of people erased since: {c['erased']} statements left out, "
                     f"{c['redacted']} without them")
        return line


@dataclass
class _Item:
    """One statement of the file: where it is, and its bytes (or why it was rejected)."""

    position: int  # line number (JSON Lines) or array index, from 1
    end: int  # where the next item starts: byte offset (JSON Lines) or array index
    body: bytes | None
    statement_id: str | None = None
    problem: str | None = None
    # A person erased since the file was written: "erased" (their statement, left out) or
    # "redacted" (body is the statement without them).
    erasure: Literal["erased", "redacted"] | None = None


_STORE_ATTEMPTS = 8  # 15 s apart: the minute or two MongoDB may need (Importer._ingest)
_STORE_RETRY_SECONDS = 15.0

def _prepare(raw: bytes, position: int, end: int, erased: ErasedPeople) -> _Item:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _Item(position, end, None, problem=f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        return _Item(position, end, None, problem="a statement must be a JSON object")
    statement_id = value.get("id")
    if statement_id is None:  # derived from the statement as written: the same every time
        value = {"id": derived_id(value), **value}
        raw = orjson.dumps(value)
    item = _Item(position, end, raw, value["id"] if isinstance(value["id"], str) else None)
    plan = erased.plan(value)
    if plan == DELETE:
        return dataclasses.replace(item, body=None, erasure="erased")
    if plan is not None:
        return dataclasses.replace(item, body=orjson.dumps(plan), erasure="redacted")
    return item


def _json_lines(path: Path, offset: int, line: int, erased: ErasedPeople) -> Iterator[_Item]:
    with path.open("rb") as f:
        f.seek(offset)
        for raw in f:
            offset += len(raw)
            line += 1
            if raw.strip():
                yield _prepare(raw, line, offset, erased)


def _json_array(path: Path, start: int, erased: ErasedPeople) -> Iterator[_Item]:
    # A statement array is read whole: JSON Lines is the format for very large files.
    items = orjson.loads(path.read_bytes())
    if not isinstance(items, list):
        raise ImportFailed(f"{path}: a JSON file must hold an array of statements")
    for index in range(start, len(items)):
        yield _prepare(orjson.dumps(items[index]), index + 1, index + 1, erased)


class ImportFailed(Exception):
    """The import cannot start (bad file, wrong checkpoint)."""


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_array(path: Path) -> bool:
    with path.open("rb") as f:
        while chunk := f.read(4096):
            stripped = chunk.lstrip().lstrip(b"\xef\xbb\xbf")
            if stripped:
                return stripped.startswith(b"[")
    return False


@dataclass
class Importer:
    """One import of one file as one credential."""

    storage: Storage
    settings: Settings
    credential: Credential
    path: Path
    rejects: Path
    version: XapiVersion
    batch_size: int = 200
    progress: Callable[[int, int], None] | None = None  # (done, total) in file units
    # Statements the store accepted since the last checkpoint, new or already held.
    _accepted: int = field(default=0, init=False, repr=False)

    async def run(self, *, restart: bool = False) -> ImportSummary:
        """Import the file from its checkpoint (or the start), batch by batch."""
        checkpoint = Path(str(self.path) + CHECKPOINT_SUFFIX)
        fingerprint = _fingerprint(self.path)
        array = _is_array(self.path)
        state: dict[str, Any] = {"file_sha256": fingerprint, "position": 0, "line": 0,
                                 "rejects_bytes": 0, "counts": {}, "done": False}
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
        items = (_json_array(self.path, state["position"], erased) if array
                 else _json_lines(self.path, state["position"], state["line"], erased))
        total = len(orjson.loads(self.path.read_bytes())) if array else self.path.stat().st_size
        decided: Counter[Decision] = Counter()

        def count(_name: str, decisions: Sequence[Decision]) -> None:
            decided.update(decisions)  # only the statements stored for the first time

        catalogue = CachedCatalogue(self.storage.catalogue, 0)
        await catalogue.refresh()
        ingest = await build_ingest(self.storage, self.settings, catalogue=catalogue,
                                    count_decisions=count)
        batch: list[_Item] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                await self._batch(ingest, batch, summary, state, checkpoint)
                batch = []
                summary.counts.update(self._drain(decided))
                self._save(checkpoint, state, summary, total)
        await self._batch(ingest, batch, summary, state, checkpoint)
        summary.counts.update(self._drain(decided))
        state["done"] = True
        self._save(checkpoint, state, summary, total)
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

    async def _batch(self, ingest: Ingest, batch: list[_Item], summary: ImportSummary,
                     state: dict[str, Any], checkpoint: Path) -> None:
        if not batch:
            return
        good = [i for i in batch if i.body is not None]
        rejected: list[tuple[_Item, int, str, list[dict[str, str]]]] = [
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
                await self._ingest(ingest, b"[" + b",".join(i.body or b"" for i in good) + b"]")
            except XapiError:
                # Something in the batch is wrong: one at a time, to find which.
                for item in good:
                    try:
                        await self._ingest(ingest, item.body or b"")
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
        state["position"] = batch[-1].end
        state["line"] = batch[-1].position
        state["rejects_bytes"] = self.rejects.stat().st_size if self.rejects.exists() else 0

    async def _ingest(self, ingest: Ingest, body: bytes) -> None:
        # A batch is idempotent, so a store that is briefly unavailable is waited for: after
        # an interrupted import, MongoDB holds the killed process's transaction (and the ids
        # it wrote) until the server expires it, about a minute later.
        for attempt in range(_STORE_ATTEMPTS):
            try:
                ids = await ingest(body, content_type="application/json",
                                   version=self.version, credential=self.credential)
                self._accepted += len(ids)
                return
            except StoreUnavailable:
                if attempt == _STORE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(_STORE_RETRY_SECONDS)

    def _save(self, checkpoint: Path, state: dict[str, Any], summary: ImportSummary,
              total: int) -> None:
        # Written after the batch is committed: a kill before this line re-imports the batch
        # on resume, which stores nothing twice (ids are checked as the API checks them).
        state["counts"] = dict(summary.counts)
        temporary = checkpoint.with_name(checkpoint.name + ".tmp")
        temporary.write_bytes(orjson.dumps(state))
        os.replace(temporary, checkpoint)
        if self.progress is not None:
            self.progress(total if state["done"] else state["position"], total)


def _single(path: str) -> str:
    # The statement was sent alone: paths are relative to it, whatever the store says.
    return "$" + path.removeprefix("$[0]") if path.startswith("$[0]") else path


def _status(exc: XapiError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
