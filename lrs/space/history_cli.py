"""`lrs space flush-history`: move the closed days of every opted-in learner's own history into
their sealed spaces now (the server does it daily when LRS_HISTORY_FLUSH_CHECK_MINUTES is
set); docs/personal-space.md, "My own history"."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from lrs.cli_common import now_ms, settings_from, store_options, with_storage
from lrs.space import history_service as history
from lrs.space.history_flush import FlushReport
from lrs.space.service import open_spaces
from lrs.storage import Storage


@click.group()
def space() -> None:
    """Learners' own spaces."""


@space.command("flush-history")
@click.option("--through-today", is_flag=True,
              help="Today too: what comes later today waits for tomorrow's batch.")
@click.option("--json", "as_json", is_flag=True, help="As the admin API answers.")
@store_options
def flush_history(through_today: bool, as_json: bool, data_dir: Path | None,
                  store: str | None) -> None:
    """Flush the closed days of My own history: one padded batch per opted-in learner and
    day into their sealed space; the days' buffer rows and tag keys are then forgotten."""
    settings = settings_from(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> FlushReport:
        spaces = open_spaces(settings, storage.space, storage.engine)
        return await history.flush(storage.history, spaces, settings, now_ms=now_ms(),
                                   through_today=through_today)

    report = with_storage(settings, work)
    if as_json:
        click.echo(orjson.dumps(report.__dict__).decode())
        return
    click.echo(f"days flushed: {len(report.days)}; batches appended: {report.batches} "
               f"({report.copies} copies, {report.carried} carried over to the next day); "
               f"rows deleted unread: {report.discarded}; learners stopped (space gone): "
               f"{report.stopped}")
