"""Request limits: sizes, batch counts, body deadlines and per-sender rate limits.

Every limit answers with a client error naming what was too much (413, 408 or 429), never
with a 500, and bounds what one request can make the process hold in memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from lrs.config import Settings
from statements.attachments import RawAttachment, media_type
from statements.errors import TooLarge

_MULTIPART = "multipart/mixed"


class RateLimiter:
    """A token bucket per sender: `per_minute` requests a minute, bursts up to the same.

    Memory is one entry per sender seen; senders are credentials or configured origins, so
    the table is as small as the credential store.
    """

    def __init__(self, per_minute: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, sender: str) -> float:
        """0 when a request may go through now, else the seconds to wait."""
        now = time.monotonic()
        tokens, last = self._buckets.get(sender, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[sender] = (tokens, now)
            return (1 - tokens) / self._rate
        self._buckets[sender] = (tokens - 1, now)
        return 0.0


def statement_body_limit(settings: Settings, content_type: str) -> int:
    """The most bytes a statement request may carry: the statements, plus the attachments
    when it is multipart/mixed (Communication §1.5.2)."""
    if media_type(content_type) == _MULTIPART:
        return settings.max_body_bytes + settings.max_attachment_bytes
    return settings.max_body_bytes


def check_statement_parts(settings: Settings, statements: bytes,
                          attachments: Sequence[RawAttachment]) -> None:
    """TooLarge when the statements part or the attachments of a multipart request pass
    their own limits (Communication §3.2.s3.b11: 413 for a request too large)."""
    if len(statements) > settings.max_body_bytes:
        raise TooLarge(f"the statements part is larger than {settings.max_body_bytes} bytes")
    total = sum(len(a.data) for a in attachments)
    if total > settings.max_attachment_bytes:
        raise TooLarge(f"the attachments total {total} bytes, more than the "
                       f"{settings.max_attachment_bytes} allowed in one request")


def check_batch(settings: Settings, count: int) -> None:
    """TooLarge when a POST holds more statements than allowed in one request."""
    if count > settings.max_batch_statements:
        raise TooLarge(f"the batch holds {count} statements, more than the "
                       f"{settings.max_batch_statements} allowed in one request: split it")
