"""Work a serving process does beside its requests: a step repeated on a timer while it runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress


@asynccontextmanager
async def every(minutes: float, step: Callable[[], Awaitable[None]], *, log: logging.Logger,
                what: str) -> AsyncIterator[None]:
    """Run `step` every `minutes` while the block runs (never when `minutes` is 0), and
    cancel it when the block ends. A round that fails is logged as `what` failed and the next
    round tries again: the server keeps serving."""
    if not minutes:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(minutes * 60)
            try:
                await step()
            except Exception:
                log.exception("%s failed", what)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
