"""The plaintext scan: which files under a directory hold any of some marker strings, as
bytes, as UTF-16 (either byte order) or as base64 (at any of its three alignments)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path


def forms(marker: bytes) -> dict[str, bytes]:
    """The ways a marker could be written: raw, UTF-16 LE and BE, and the part of its base64
    that does not depend on the bytes around it, for each alignment."""
    found = {"raw": marker}
    try:
        text = marker.decode()
    except UnicodeDecodeError:
        pass
    else:
        found["utf-16-le"] = text.encode("utf-16-le")
        found["utf-16-be"] = text.encode("utf-16-be")
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + marker)
        # Characters touching the padding bytes or the unknown next byte vary: drop them.
        start = (shift * 4 + 2) // 3
        found[f"base64+{shift}"] = encoded[start:(len(encoded) // 4 - 1) * 4]
        found[f"base64url+{shift}"] = found[f"base64+{shift}"].replace(b"+", b"-").replace(
            b"/", b"_")
    return found


def files_holding(root: Path, markers: Iterable[bytes]) -> list[tuple[str, str, str]]:
    """(file, marker, form) for every file under `root` holding a marker in some form."""
    wanted = [(m, name, form) for m in markers for name, form in forms(m).items()]
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits.extend((str(path.relative_to(root)), m.decode(errors="replace"), name)
                    for m, name, form in wanted if form in content)
    return hits


def scanned_files(root: Path) -> list[str]:
    """The files a scan of `root` reads (to show it read some)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
