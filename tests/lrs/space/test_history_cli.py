"""`lrs space flush-history` on an SQLite store: the closed days (and today, when asked) of every
opted-in learner flushed into their sealed space, as the admin API does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import orjson
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.space.history_service import read
from lrs.space.service import open_spaces
from lrs.storage import open_storage
from tests.lrs.space.test_history_flush import (
    CREDENTIAL,
    PASSPHRASE,
    sealed_learner,
    send,
    viewed,
)


def test_history_cli_flush_through_today_puts_the_copies_in_the_space(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    async def before() -> str:
        storage = await open_storage(settings)
        try:
            await storage.credentials.add(CREDENTIAL)
            spaces = open_spaces(settings, storage.space, storage.engine)
            owner = await sealed_learner(storage, spaces, "ada")
            # Today by the server's clock, so that --through-today flushes it.
            await send(storage, settings, [viewed("ada", n) for n in range(2)],
                       at=datetime.now(UTC))
            return owner
        finally:
            await storage.close()

    owner = asyncio.run(before())
    plain = CliRunner().invoke(main, ["space", "flush-history", "--data-dir", str(tmp_path)])
    assert plain.exit_code == 0, plain.output
    assert "days flushed: 1; batches appended: 1 (0 copies" in plain.output  # yesterday's
    result = CliRunner().invoke(main, ["space", "flush-history", "--through-today", "--json",
                                       "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["batches"] == 1 and report["copies"] == 2

    async def after() -> int:
        storage = await open_storage(settings)
        try:
            spaces = open_spaces(settings, storage.space, storage.engine)
            return len(await read(spaces, await spaces.unlock(owner, PASSPHRASE)))
        finally:
            await storage.close()

    assert asyncio.run(after()) == 2
    erased = CliRunner().invoke(main, ["forget", "--agent", '{"mbox": "mailto:ada@example.com"}',
                                       "--data-dir", str(tmp_path)])
    assert erased.exit_code == 0, erased.output
    assert "own history: opt-in stopped: 1, copies waiting deleted: 0, batches deleted: 2" \
        in erased.output
