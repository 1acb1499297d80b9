"""`lrs privacy report`: the record of processing and DPIA draft, as Markdown or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from lrs.cli_common import settings_from, store_options, with_storage
from lrs.privacy.facts import gather
from lrs.privacy.markdown import render
from lrs.storage import Storage
from plugins.catalogue import Catalogue
from plugins.manager import make_plugin_manager


@click.group()
def privacy() -> None:
    """Privacy paperwork for a data protection officer (docs/privacy.md)."""


@privacy.command()
@click.option("--format", "form", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True, help="Markdown for people, JSON for tools.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file (default: standard output).")
@store_options
def report(form: str, output: Path | None, data_dir: Path | None, store: str | None) -> None:
    """The record of processing (GDPR Art. 30) and a DPIA draft (Art. 35) of the
    configuration in effect: these settings, this store's catalogue and credentials."""
    settings = settings_from(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> dict[str, Any]:
        catalogue = Catalogue(await storage.catalogue.entries())
        return await gather(settings, storage, catalogue, make_plugin_manager())

    facts = with_storage(settings, work)
    text = (orjson.dumps(facts, option=orjson.OPT_INDENT_2).decode() + "\n"
            if form == "json" else render(facts))
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"privacy report ({form}) written to {output}", err=True)
