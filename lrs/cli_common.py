"""What the `lrs` commands share: the store options, settings from them, and running one step
on the store (lrs.cli, lrs.admin.cli)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from lrs.config import Settings
from lrs.storage import Storage, open_storage
from statements.errors import Conflict, InvalidRequest, NotFound

T = TypeVar("T")


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    return Settings(**given)


def with_storage(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    """Open the configured store, run `work` on it, close it."""
    async def run() -> T:
        storage = await open_storage(settings)
        try:
            return await work(storage)
        finally:
            await storage.close()

    return asyncio.run(run())


def admin_step(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    """`with_storage` for an administration step: its refusal (no such credential, a name
    in use) becomes the command's error message."""
    try:
        return with_storage(settings, work)
    except (NotFound, Conflict) as exc:
        raise click.ClickException(exc.message) from None
    except InvalidRequest as exc:
        raise click.ClickException("; ".join(
            [exc.message, *(p.message for p in exc.problems)])) from None


_store_options = [
    click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory."),
    click.option("--store", help="sqlite:///path/to/file.db or mongodb://… URL."),
]


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --data-dir and --store to a command."""
    for option in reversed(_store_options):
        func = option(func)
    return func


operator_option = click.option("--operator", default="cli", show_default=True,
                               help="Who runs it, for the audit log.")


def now_ms() -> int:
    """Now, in milliseconds since the epoch."""
    return int(datetime.now(UTC).timestamp() * 1000)
