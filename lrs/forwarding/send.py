"""Sending one batch of outbox items to one destination: an xAPI LRS or a signed webhook.

The webhook signature (docs/forwarding.md) is HMAC-SHA256, from the standard library's
`hmac`, over `<timestamp>.<body>` with the destination's shared secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
import orjson

from lrs.forwarding import Destination, Leased
from statements.attachments import declared, render_multipart
from statements.store import StatementStore

TIMESTAMP_HEADER = "X-Tally-Timestamp"
SIGNATURE_HEADER = "X-Tally-Signature"
# What the receiving LRS sets itself (Data §2.4.8 stored, §2.4.9 authority): not sent.
_RECEIVER_SETS = ("stored", "authority")


class DeliveryFailed(Exception):
    """The destination did not take the batch (an error status, a timeout, no answer)."""


@dataclass(frozen=True)
class Outgoing:
    """What a batch carries, and the items whose statement is gone (erased since)."""

    items: list[Leased]
    statements: dict[str, dict[str, Any]]
    gone: list[Leased]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC of `timestamp.body`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


async def gather(items: Sequence[Leased], store: StatementStore) -> Outgoing:
    """Read each kept statement an item names (concurrently); one erased (or purged) since
    is gone."""
    async def read(statement_id: str) -> bytes | None:
        return await store.get(statement_id, voided=False) \
            or await store.get(statement_id, voided=True)

    wanted = [i.statement_id for i in items if i.statement_id is not None]
    raws = dict(zip(wanted, await asyncio.gather(*(read(i) for i in wanted)), strict=True))
    found = {i: orjson.loads(raw) for i, raw in raws.items() if raw is not None}
    sent = [i for i in items if i.statement_id is None or i.statement_id in found]
    gone = [i for i in items if i.statement_id is not None and i.statement_id not in found]
    return Outgoing(sent, found, gone)


async def send(http: httpx2.AsyncClient, destination: Destination, outgoing: Outgoing,
               store: StatementStore, *, timeout: float) -> None:
    """POST the batch; raise DeliveryFailed unless the destination took it (2xx)."""
    if destination.kind == "xapi":
        content, headers = await _xapi_body(destination, outgoing, store)
        url = destination.url.rstrip("/") + "/statements"
        auth: Any = (destination.username, destination.secret)
    else:
        content, headers = _webhook_body(destination, outgoing)
        url, auth = destination.url, None
    try:
        response = await http.post(url, content=content, headers=headers, auth=auth,
                                   timeout=timeout)
    except httpx2.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__) \
            from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:300]}")


async def _xapi_body(destination: Destination, outgoing: Outgoing, store: StatementStore
                     ) -> tuple[bytes, dict[str, str]]:
    statements = [{k: v for k, v in outgoing.statements[i.statement_id].items()
                   if k not in _RECEIVER_SETS}
                  for i in outgoing.items if i.statement_id is not None]
    body = orjson.dumps(statements)
    headers = {"X-Experience-API-Version": destination.xapi_version}
    # Communication §1.5.2: attachments whose bytes we hold travel as multipart/mixed.
    wanted = {a["sha2"].lower() for _, a in declared(statements)}
    raw = await store.get_attachments(wanted) if wanted else []
    if raw:
        body, content_type = render_multipart(body, raw)
        headers["Content-Type"] = content_type
    else:
        headers["Content-Type"] = "application/json"
    return body, headers


def _webhook_body(destination: Destination, outgoing: Outgoing) -> tuple[bytes, dict[str, str]]:
    entries: list[dict[str, Any]] = []
    for item in outgoing.items:
        if item.statement_id is not None:
            entries.append({"id": item.statement_id, "kind": "statement",
                            "statement": outgoing.statements[item.statement_id]})
        else:  # DESIGN §6: a tallied statement leaves only as its anonymous hit
            entries.append({"id": item.key.rpartition("/")[2], "kind": "hit", "hit": item.hit})
    body = orjson.dumps({"destination": destination.name, "items": entries})
    timestamp = str(int(time.time()))
    return body, {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                  SIGNATURE_HEADER: sign(destination.secret, timestamp, body)}
