"""Where `lrs import` reads statements: a file (JSON Lines, a JSON array, a Learning Locker
`mongoexport`) or another LRS through its xAPI API (docs/import.md)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin

import httpx
import orjson

from lrs.config import Settings
from statements.attachments import RawAttachment, parse_multipart
from statements.errors import XapiError
from statements.versions import XapiVersion

# One batch of items and the checkpoint fields that say where the next batch starts.
Batch = tuple[list["Item"], dict[str, Any]]


def import_files_dir(settings: Settings) -> Path:
    """The directory of every import's checkpoint and rejects files (erasure scrubs it)."""
    return settings.data_dir / "imports"


@dataclass
class Item:
    """One statement read: where it is, its JSON (or why it was rejected), its attachments."""

    position: int  # line number (JSON Lines), array index from 1, or number in the pull
    body: bytes | None
    statement_id: str | None = None
    problem: str | None = None
    erasure: str | None = None  # "erased" or "redacted" (lrs.importer)
    attachments: list[RawAttachment] = field(default_factory=list)


class Source(Protocol):
    """What the importer reads from."""

    name: str  # what the progress bar and the audit log call it
    identity: str  # names the checkpoint: the same source, the same checkpoint

    def fingerprint(self) -> str:
        """Changes when the source is another one than the checkpoint's."""

    def total(self) -> int | None:
        """How many units (bytes, array items) there are, when known."""

    def batches(self, state: dict[str, Any], size: int) -> AsyncIterator[Batch]:
        """Batches from where `state` says, each with the state that follows it."""


def unwrap(value: dict[str, Any]) -> dict[str, Any]:
    """The statement of a Learning Locker document, whose `statement` field holds it beside
    LL's own metadata (`_id`, `lrs_id`, `client`, `voided`, `hash`, ...). LL kept the `.`
    of keys (extension IRIs) as `&46;`, which MongoDB would refuse, and put them back when
    it served them ("quirks" in LL's documentation): so does this."""
    inner = value.get("statement")
    if "actor" in value or not isinstance(inner, dict):
        return value
    return _unescape(inner)  # type: ignore[no-any-return]


def _unescape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.replace("&46;", "."): _unescape(v)
                for key, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


@dataclass
class FileSource:
    """A file of statements: JSON Lines (resumed by byte offset) or a JSON array (by index)."""

    path: Path
    name: str = ""
    identity: str = ""

    def __post_init__(self) -> None:
        self.name = self.path.name
        self.identity = f"file:{self.path.resolve()}"

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def _is_array(self) -> bool:
        with self.path.open("rb") as f:
            while chunk := f.read(4096):
                stripped = chunk.lstrip().lstrip(b"\xef\xbb\xbf")
                if stripped:
                    return stripped.startswith(b"[")
        return False

    def total(self) -> int | None:
        if self._is_array():
            return len(orjson.loads(self.path.read_bytes()))
        return self.path.stat().st_size

    async def batches(self, state: dict[str, Any], size: int) -> AsyncIterator[Batch]:
        batch: list[Item] = []
        after: dict[str, Any] = {}
        for item, where in self._items(state):
            batch.append(item)
            after = where
            if len(batch) >= size:
                yield batch, after
                batch = []
        if batch:
            yield batch, after

    def _items(self, state: dict[str, Any]) -> Iterator[tuple[Item, dict[str, Any]]]:
        offset, line = state.get("position", 0), state.get("line", 0)
        if self._is_array():
            # A statement array is read whole: JSON Lines is the format for very large files.
            items = orjson.loads(self.path.read_bytes())
            if not isinstance(items, list):
                raise ImportFailed(f"{self.path}: a JSON file must hold an array of statements")
            for index in range(offset, len(items)):
                yield (Item(index + 1, orjson.dumps(items[index])),
                       {"position": index + 1, "line": index + 1})
            return
        with self.path.open("rb") as f:
            f.seek(offset)
            for raw in f:
                offset += len(raw)
                line += 1
                if raw.strip():
                    yield Item(line, raw), {"position": offset, "line": line}


class ImportFailed(Exception):
    """The import cannot start or go on (bad file, wrong checkpoint, the peer LRS refuses)."""


@dataclass
class LrsSource:
    """Another LRS, read through GET /statements (Communication §2.1.3), oldest first, with
    attachments, following `more` (§2.1.3.s3: the IRL of the next page)."""

    endpoint: str  # the xAPI base, e.g. https://old.example.com/xapi/
    auth: tuple[str, str]
    version: XapiVersion
    since: str | None = None
    name: str = ""
    identity: str = ""
    client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self.endpoint = self.endpoint.rstrip("/") + "/"
        self.name = self.endpoint
        self.identity = f"lrs:{self.endpoint}|{self.auth[0]}|{self.since or ''}"

    def fingerprint(self) -> str:
        return hashlib.sha256(self.identity.encode()).hexdigest()

    def total(self) -> int | None:
        return None

    async def batches(self, state: dict[str, Any], size: int) -> AsyncIterator[Batch]:
        query = {"attachments": "true", "ascending": "true", "limit": str(size),
                 **({"since": self.since} if self.since else {})}
        url = state.get("next") or urljoin(self.endpoint, "statements") + "?" + urlencode(query)
        number = state.get("line", 0)
        async with httpx.AsyncClient(timeout=120) as owned:
            client = self.client or owned
            while url:
                statements, attachments, more = await self._page(client, url)
                # `more` is relative to the server (§2.1.3.s3): resolved against the endpoint.
                url = urljoin(self.endpoint, more) if more else ""
                items = []
                for statement in statements:
                    number += 1
                    wanted = {a.get("sha2") for a in statement.get("attachments", ())}
                    items.append(Item(number, orjson.dumps(statement), attachments=[
                        a for a in attachments if a.sha2 in wanted]))
                if not items and url:
                    continue  # an empty page that still points on
                yield items, {"next": url, "line": number}

    async def _page(self, client: httpx.AsyncClient, url: str
                    ) -> tuple[list[dict[str, Any]], list[RawAttachment], str]:
        try:
            response = await client.get(url, auth=self.auth, headers={
                "X-Experience-API-Version": self.version.value})
        except httpx.HTTPError as exc:
            raise ImportFailed(f"{url}: {exc}") from None
        if response.status_code != 200:
            raise ImportFailed(f"{url} answered {response.status_code}: {response.text[:300]}")
        content_type = response.headers.get("content-type", "")
        body, attachments = response.content, []
        if re.match(r"\s*multipart/mixed", content_type, re.I):
            try:
                parts = parse_multipart(body, content_type)
            except XapiError as exc:
                raise ImportFailed(f"{url}: {exc.message}") from None
            body, attachments = parts.statements, list(parts.attachments)
        result = orjson.loads(body)
        if not isinstance(result, dict) or not isinstance(result.get("statements"), list):
            raise ImportFailed(f"{url}: not a StatementResult")
        return result["statements"], attachments, result.get("more") or ""
