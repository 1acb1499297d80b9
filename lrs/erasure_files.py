"""The files the LRS writes outside its store, as erasure sees them: which to look in
(`files_to_scan`, the one list) and how a person is taken out of one (`scrub_file`)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Literal

from lrs.config import Settings
from statements.erasure import AuditRecord

# Audit detail keys that name a file the LRS wrote: an import's checkpoint and rejects
# (lrs.importer), an export's archive (`lrs export --output`).
RECORDED_FILES = ("checkpoint", "rejects", "output")
Outcome = Literal["rewritten", "deleted"]
_SQLITE = b"SQLite format 3\x00"


def files_to_scan(settings: Settings, audit: Iterable[AuditRecord]) -> list[Path]:
    """Every file the LRS may have written a person's identifiers into, outside the store:
    each file under the data directory (but the SQLite store's own files, erased through
    the store), and the import checkpoints, rejects files and exports the audit log
    records, wherever they are (next to an input file, say)."""
    store = settings.store_url()
    own = (Path(store.removeprefix("sqlite:///")).resolve()
           if store.startswith("sqlite:///") else None)
    found: dict[Path, None] = {}
    if settings.data_dir.is_dir():
        for root, _, names in os.walk(settings.data_dir):
            for name in sorted(names):
                found[Path(root, name).resolve()] = None
    for record in audit:
        for name in RECORDED_FILES:
            if (value := record.detail.get(name)) and Path(value).is_file():
                found[Path(value).resolve()] = None
    return [path for path in found
            if own is None or not path.name.startswith(own.name) or path.parent != own.parent]


def _mentions(data: bytes, needles: Collection[bytes]) -> bool:
    lowered = data.lower()
    return any(needle in lowered for needle in needles)


def scrub_file(path: Path, identifiers: Collection[str], *,
               dry_run: bool = False) -> Outcome | None:
    """Take the person out of one file: None if it does not mention them. A zip archive
    (an export) that does is deleted: it is a copy, and exporting again makes a new one
    without them. In any other file each line that mentions them is overwritten by a
    marker of the same length (`{"erased":true}` and spaces, still a JSON line), so that
    offsets into it (an import checkpoint's into its rejects file) stay right."""
    needles = [i.lower().encode() for i in identifiers if i]
    try:
        data = path.read_bytes()
    except OSError:
        return None  # gone, or not ours to read
    if data.startswith(_SQLITE):
        return None  # a backup (`lrs backup`): not rewritten line by line (docs/retention.md)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if not any(_mentions(archive.read(member), needles) for member in archive.namelist()):
                return None
        if not dry_run:
            path.unlink()
        return "deleted"
    if not _mentions(data, needles):
        return None
    if not dry_run:
        lines = data.splitlines(keepends=True)
        out = [_marker(line) if _mentions(line, needles) else line for line in lines]
        temporary = path.with_name(path.name + ".erasing")
        temporary.write_bytes(b"".join(out))
        os.replace(temporary, path)
    return "rewritten"


def _marker(line: bytes) -> bytes:
    end = line[len(line.rstrip(b"\r\n")):]
    width = len(line) - len(end)
    marker = b'{"erased":true}'
    return (marker + b" " * (width - len(marker)) if width >= len(marker)
            else b"{}".ljust(width, b" ")[:width]) + end
