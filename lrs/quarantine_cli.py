"""`lrs quarantine`: list rejected statements by error kind, download them, replay corrected
ones through the normal ingest, discard them (the admin API's operations; docs/quarantine.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from lrs.cli_common import (
    admin_step,
    now_ms,
    operator_option,
    settings_from,
    store_options,
    with_storage,
)
from lrs.storage import Storage
from statements.errors import Conflict, InvalidRequest, NotFound


@click.group()
def quarantine() -> None:
    """Statements rejected from credentials with --quarantine-days, kept with their errors."""


@quarantine.command("list")
@click.option("--kind", help="Only this error kind (as the summary names it).")
@click.option("--json", "as_json", is_flag=True, help="As GET /api/v1/admin/quarantine answers.")
@store_options
def list_(kind: str | None, as_json: bool, data_dir: Path | None, store: str | None) -> None:
    """How many statements each error kind holds, then the entries, oldest first."""
    settings = settings_from(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> Any:
        return await storage.quarantine.kinds(), await storage.quarantine.list(kind=kind)

    kinds, entries = admin_step(settings, work)
    if as_json:
        click.echo(orjson.dumps({"kinds": kinds,
                                 "entries": [e.describe() for e in entries]}).decode())
        return
    for name, count in kinds.items():
        click.echo(f"{count:>8}  {name}")
    for entry in entries:
        first = entry.problems[0] if entry.problems else None
        where = f"{first.path}: {first.message}" if first else entry.message
        click.echo(f"{entry.id}  {entry.kind}  {where}")


@quarantine.command("download")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The JSON Lines file to write, one entry a line.")
@click.option("--kind", help="Only this error kind.")
@store_options
def download(output: Path, kind: str | None, data_dir: Path | None, store: str | None) -> None:
    """Write the entries (statement, error kind, message, problems with their JSON paths)."""
    from lrs.quarantine import json_lines

    settings = settings_from(data_dir=data_dir, store=store)
    entries = admin_step(settings, lambda storage: storage.quarantine.list(kind=kind))
    output.write_bytes(json_lines(entries))
    click.echo(f"wrote {len(entries)} quarantined statements to {output}")


@quarantine.command("replay")
@click.argument("entry")
@click.option("--statement", "statement_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The corrected statement (JSON); without it, the statement as it was sent.")
@operator_option
@store_options
def replay(entry: str, statement_file: Path | None, operator: str, data_dir: Path | None,
           store: str | None) -> None:
    """Send the entry ENTRY through the normal ingest as the credential that sent it; once
    stored, it leaves the quarantine."""
    from lrs.ingest import build_ingest
    from lrs.quarantine import replay as run_replay

    settings = settings_from(data_dir=data_dir, store=store)
    corrected = statement_file.read_bytes() if statement_file is not None else None

    async def work(storage: Storage) -> str:
        ingest = await build_ingest(storage, settings)
        return await run_replay(storage, ingest, entry, corrected, operator=operator,
                                now_ms=now_ms())

    try:
        stored = with_storage(settings, work)
    except (NotFound, Conflict) as exc:
        raise click.ClickException(exc.message) from None
    except InvalidRequest as exc:  # rejected again: say where, as the API does
        raise click.ClickException("; ".join(
            [exc.message, *(f"{p.path}: {p.message}" for p in exc.problems)])) from None
    click.echo(f"stored statement {stored}")


@quarantine.command("discard")
@click.argument("entry")
@operator_option
@store_options
def discard(entry: str, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Delete the entry ENTRY without replaying it."""
    from lrs.quarantine import discard as run_discard

    settings = settings_from(data_dir=data_dir, store=store)
    admin_step(settings, lambda storage: run_discard(storage, entry, operator=operator,
                                                     now_ms=now_ms()))
    click.echo(f"discarded {entry}")
