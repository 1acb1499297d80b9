"""The `lrs` command: serve, and manage credentials, the catalogue and the store."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from pydantic import SecretStr

from lrs.admin import credentials as admin
from lrs.admin.audit import record_action
from lrs.admin.cli import credentials
from lrs.admin.settings_view import metrics_exposure
from lrs.cli_common import now_ms, operator_option, settings_from, store_options, with_storage
from lrs.compliance_cli import catalogue_add
from lrs.compliance_cli import report as compliance_report
from lrs.credentials import Scope
from lrs.forwarding.cli import forwarding
from lrs.privacy.cli import privacy
from lrs.quarantine_cli import quarantine
from lrs.space.history_cli import space
from lrs.storage import Storage
from plugins.catalogue import CatalogueError, dump_catalogue, load_catalogue
from statements.compliance import date_or_timestamp
from statements.datatypes import parse_timestamp
from statements.errors import InvalidRequest, NotFound


@click.group()
def main() -> None:
    """tally-lrs: an xAPI learning record store with lite-tracking."""


main.add_command(credentials)
main.add_command(forwarding)
main.add_command(privacy)
main.add_command(quarantine)
main.add_command(space)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000).")
@click.option("--workers", type=int, help="Worker processes (default 1).")
@store_options
def serve(host: str | None, port: int | None, workers: int | None, data_dir: Path | None,
          store: str | None) -> None:
    """Run the LRS."""
    import uvicorn

    from lrs.protocol import HttpProtocol
    from lrs.requestlog import logging_config

    settings = settings_from(host=host, port=port, workers=workers, data_dir=data_dir, store=store)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Workers are separate processes: hand them the same settings through the environment.
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            secret = getattr(settings, name)
            text = (secret.get_secret_value() if isinstance(secret, SecretStr)  # not "****"
                    else value if isinstance(value, str) else orjson.dumps(value).decode())
            os.environ[f"LRS_{name.upper()}"] = text
    # Create or migrate the store once, before any worker starts.
    with_storage(settings, lambda storage: asyncio.sleep(0))
    # One banner line: what follows is the JSON request log.
    unserved = metrics_exposure(settings) == "not served"
    click.echo(f"tally-lrs on http://{settings.host}:{settings.port}{settings.base_path}/ "
               f"(store: {settings.store_url()}"
               f"{'; /metrics not served: see LRS_METRICS_TOKEN' if unserved else ''})")
    # One JSON line per request comes from lrs.requestlog; uvicorn's access log would repeat
    # it with the raw path and query string, where xAPI clients put agents.
    uvicorn.run("lrs.app:create_app_from_environment", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level=settings.log_level,
                log_config=logging_config(settings.log_level), access_log=False,
                proxy_headers=False, server_header=False,
                http=HttpProtocol,  # unparseable requests answered in the LRS's error shape
                timeout_graceful_shutdown=settings.graceful_timeout_seconds,
                # Past this many connections uvicorn answers 503 rather than grow.
                limit_concurrency=settings.max_connections)


@main.group()
def catalogue() -> None:
    """The compliance catalogue: activities whose statements are kept in full."""


@catalogue.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@operator_option
@store_options
def catalogue_load(file: Path, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Replace the catalogue with FILE (JSON or YAML; see docs/catalogue.md).

    Applies to statements arriving afterwards: what was tallied cannot be brought back.
    """
    try:
        entries = load_catalogue(file.read_text(encoding="utf-8"), filename=file.name)
    except CatalogueError as exc:
        raise click.ClickException("\n".join(["the catalogue is not valid:", *exc.problems])) \
            from None
    settings = settings_from(data_dir=data_dir, store=store)

    async def load(storage: Storage) -> None:
        await storage.catalogue.replace(entries)
        await record_action(storage, "catalogue_load", operator=operator, now_ms=now_ms(),
                            counts={"entries": len(entries)}, detail={"file": file.name})

    with_storage(settings, load)
    click.echo(f"loaded {len(entries)} catalogue entries from {file}")


catalogue.add_command(catalogue_add)
main.add_command(compliance_report)


@catalogue.command("export")
@store_options
def catalogue_export(data_dir: Path | None, store: str | None) -> None:
    """Print the catalogue in the format `lrs catalogue load` reads."""
    settings = settings_from(data_dir=data_dir, store=store)
    click.echo(dump_catalogue(with_storage(settings, lambda s: s.catalogue.entries())))


@main.command()
@store_options
def migrate(data_dir: Path | None, store: str | None) -> None:
    """Create or upgrade the store's schema and indexes (idempotent; `serve` does it too)."""
    settings = settings_from(data_dir=data_dir, store=store)

    async def engine_of(storage: Storage) -> str:  # opening the store migrates it
        return storage.engine

    click.echo(f"{with_storage(settings, engine_of)} store at {settings.store_url()} "
               "is up to date")


def _ms_of_option(option: str, value: str) -> int:
    """A date-time option (a plain date is the start of that day, UTC) in milliseconds."""
    try:
        moment = parse_timestamp(date_or_timestamp(option.lstrip("-"), value))
    except InvalidRequest as exc:
        raise click.BadParameter(exc.problems[0].message, param_hint=option) from None
    return int(moment.timestamp() * 1000)


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
@click.option("--as-of", metavar="WHEN",
              help="With --dry-run: what would go at this ISO 8601 date-time, or date (the "
                   "start of that day, UTC), instead of now.")
@click.option("--operator", default="cli", show_default=True,
              help="Who runs it, for the audit log.")
@store_options
def purge(dry_run: bool, as_of: str | None, operator: str, data_dir: Path | None,
          store: str | None) -> None:
    """Delete kept statements past their retention period (docs/retention.md)."""
    if as_of is not None and not dry_run:
        raise click.UsageError("--as-of only previews: give --dry-run too")
    when_ms = _ms_of_option("--as-of", as_of) if as_of else now_ms()
    from lrs.erasure import purge as run_purge
    from lrs.erasure import retention_policy
    from plugins.catalogue import Catalogue

    settings = settings_from(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> Any:
        policy = retention_policy(settings, Catalogue(await storage.catalogue.entries()))
        return await run_purge(storage, policy, now_ms=when_ms, operator=operator,
                               dry_run=dry_run)

    report = with_storage(settings, work)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {report.statements} statements past their retention period")
    for name, count in sorted(report.by_class.items()):
        click.echo(f"  {count:>8}  {name}")
    click.echo(f"{verb} {report.quarantine} quarantined statements past their credential's "
               "quarantine days")
    if not dry_run and report.statements:
        click.echo(f"attachments deleted: {report.done['attachments_deleted']}")


@main.command()
@click.option("--agent", "agent_json", required=True, multiple=True,
              help='The person as an xAPI Agent, e.g. \'{"mbox": "mailto:a@example.com"}\'; '
                   "repeat it for each identifier of the same person.")
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
@click.option("--operator", default="cli", show_default=True,
              help="Who runs it, for the audit log.")
@store_options
def forget(agent_json: tuple[str, ...], dry_run: bool, operator: str, data_dir: Path | None,
           store: str | None) -> None:
    """Erase a person: their statements, documents, attachments and quarantined statements,
    the credentials bound to them, and their traces in the audit log and in the files the
    LRS wrote (docs/retention.md)."""
    from lrs.erasure import forget as run_forget
    from lrs.erasure_files import files_to_scan
    from statements.document_params import parse_agent_param
    from statements.errors import InvalidRequest

    keys = []
    for raw in agent_json:
        try:
            keys.append(parse_agent_param(raw))
        except InvalidRequest as exc:
            where = "; ".join(f"{p.path.replace('?agent', '--agent', 1)}: {p.message}"
                              for p in exc.problems)
            raise click.BadParameter(where, param_hint="--agent") from None
    settings = settings_from(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> Any:
        files = files_to_scan(settings, await storage.erasure.audit_log())
        return await run_forget(storage, keys, now_ms=now_ms(), operator=operator,
                                dry_run=dry_run, files=files)

    report = with_storage(settings, work)
    for at in report.earlier:
        when = datetime.fromtimestamp(at / 1000, UTC).isoformat(timespec="seconds")
        click.echo(f"this agent was already erased on {when}")
    done = report.done
    verb = "would be " if dry_run else ""
    click.echo(f"{'dry run: nothing changed. ' if dry_run else ''}"
               f"statements {verb}deleted: {done['statements_deleted']}, rewritten: "
               f"{done['statements_rewritten']}; documents {verb}deleted: "
               f"{done['documents_deleted']}; attachments {verb}deleted: "
               f"{done['attachments_deleted']}; quarantined statements {verb}deleted: "
               f"{done['quarantine_deleted']}; audit entries {verb}scrubbed: "
               f"{done['audit_entries_scrubbed']}; sessions {verb}ended: "
               f"{done['sessions_ended']}; spaces {verb}destroyed: "
               f"{done['spaces_destroyed']}; grants {verb}deleted: "
               f"{done['grants_deleted']}")
    if any(name.startswith("history_") for name in done):  # My own history, when there was one
        click.echo(f"own history: opt-in {verb}stopped: {done.get('history_opt_ins', 0)}, "
                   f"copies waiting {verb}deleted: {done.get('history_pending_deleted', 0)}, "
                   f"batches {verb}deleted: {done.get('history_batches_deleted', 0)}")
    for key in report.credentials:
        click.echo(f"credential {key} {verb}revoked and scrubbed")
    for path, outcome in sorted(report.files.items()):
        click.echo(f"file {path} {verb}{outcome}")


@main.command("import")
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from-lrs", "from_lrs", metavar="URL",
              help="Pull from another LRS instead: its xAPI endpoint (GET /statements).")
@click.option("--key", help="With --from-lrs: the peer LRS's key (HTTP Basic user).")
@click.option("--secret", help="With --from-lrs: its secret; `-` reads it from standard "
              "input (kept out of the process list).")
@click.option("--since", metavar="TIMESTAMP",
              help="With --from-lrs: only statements stored after this instant.")
@click.option("--credential", "credential_ref", metavar="REF", required=True,
              help="Name or key of the credential the statements are attributed to; its "
              "retention default applies.")
@click.option("--restamp", is_flag=True, help="Give each statement the import's `stored` "
              "and the credential's authority, as a POST would (default: keep its own).")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint: start from the top.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--xapi-version", type=click.Choice(["1.0.3", "2.0.0"]),
              help="Version the statements are validated (and pulled) as (default: the "
              "server's).")
@operator_option
@store_options
def import_(file: Path | None, from_lrs: str | None, key: str | None, secret: str | None,
            since: str | None, credential_ref: str, restamp: bool, restart: bool,
            batch_size: int, xapi_version: str | None, operator: str, data_dir: Path | None,
            store: str | None) -> None:
    """Import statements from FILE (JSON Lines, a JSON array, a Learning Locker mongoexport)
    or from another LRS (--from-lrs), through the retention chain.

    Keeps each statement's `stored` and `authority`; idempotent and resumable, checkpoint
    and rejects in the data directory; exits 3 when any statement was rejected. See
    docs/import.md.
    """
    from rich.console import Console
    from rich.progress import Progress

    from lrs.import_sources import FileSource, LrsSource, Source
    from lrs.importer import Importer, ImportFailed
    from statements.versions import XapiVersion

    settings = settings_from(data_dir=data_dir, store=store)
    version = XapiVersion(xapi_version) if xapi_version else settings.default_xapi_version
    source: Source
    if (file is None) == (from_lrs is None):
        raise click.UsageError("give either FILE or --from-lrs URL")
    if from_lrs is not None:
        if secret == "-":
            secret = sys.stdin.readline().strip()
        if not key or not secret:
            raise click.UsageError("--from-lrs needs --key and --secret")
        if since is not None:
            try:
                parse_timestamp(since)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--since") from None
        source = LrsSource(from_lrs, (key, secret), version, since)
    else:
        assert file is not None
        source = FileSource(file)
    console = Console(stderr=True)

    async def work(storage: Storage) -> Any:
        try:
            credential = await admin.resolve(storage.credentials, credential_ref)
        except NotFound as exc:
            raise click.ClickException(exc.message) from None
        if not credential.allows(Scope.STATEMENTS_WRITE):  # as a POST would need
            raise click.ClickException(f"the credential {credential.name!r} may not write "
                                       "statements (scope statements/write or all)")
        with Progress(console=console, disable=not console.is_terminal) as bar:
            task = bar.add_task(f"importing {source.name}", total=None)
            importer = Importer(storage, settings, credential, source, version, batch_size,
                                lambda done, total: bar.update(task, completed=done,
                                                               total=total),
                                keep_lrs_set=not restamp)
            summary = await importer.run(restart=restart)
        if not summary.already_done:
            # Statements enter with their own stored and authority: an administrator's act.
            c = summary.counts
            await record_action(storage, "statements_import", operator=operator,
                                now_ms=now_ms(), detail={
                                    "source": source.name, "credential": credential.name,
                                    "kept_lrs_set": str(not restamp).lower(),
                                    # Where its files are, for an erasure (lrs.erasure_files).
                                    "checkpoint": str(importer.checkpoint.resolve()),
                                    "rejects": str(importer.rejects.resolve())},
                                counts={k: int(v) for k, v in c.items()})
        return summary, importer

    try:
        summary, importer = with_storage(settings, work)
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    if summary.already_done:
        click.echo(f"{source.name} was already imported (remove {importer.checkpoint} or "
                   "pass --restart to import it again; nothing would be stored twice)")
    click.echo(summary.line())
    if summary.counts["rejected"]:
        click.echo(f"rejected statements, with reasons: {importer.rejects}")
        raise SystemExit(3)


@main.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keyring", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also copy the learners' spaces' keyring into this new file: keep it "
                   "apart from the store's backups, for less long (docs/personal-space.md).")
@store_options
def backup_command(destination: Path, keyring: Path | None, data_dir: Path | None,
                   store: str | None) -> None:
    """Copy the SQLite store into the new file DESTINATION, safely while the LRS runs.

    Restore by stopping the LRS and putting the copy in place of the store file. For
    MongoDB use mongodump (see docs/operations.md).
    """
    from lrs.space.sqlite import keyring_path
    from statements.errors import StoreUnavailable
    from statements.stores.sqlite_db import backup

    settings = settings_from(data_dir=data_dir, store=store)
    url = settings.store_url()
    if not url.startswith("sqlite:///"):
        raise click.ClickException("lrs backup copies an SQLite store; for MongoDB use "
                                   "mongodump (see docs/operations.md)")
    source = Path(url.removeprefix("sqlite:///"))
    try:
        backup(source, destination)
        if keyring is not None:
            backup(keyring_path(source), keyring)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up {url} to {destination}")
    if keyring is not None:
        click.echo(f"backed up the spaces' keyring {keyring_path(source)} to {keyring}")


DEMO_DATA_DIR = Path("data-demo")


@main.command("demo")
@click.option("--learners", type=click.IntRange(5, 100_000), default=400, show_default=True,
              help="How many (made-up) learners.")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True,
              help="How many days of traffic, up to now.")
@click.option("--seed", type=int, default=9, show_default=True, help="Random seed.")
@click.option("--force", is_flag=True,
              help="Add the made-up data to a store that already holds data (it cannot be "
                   "taken out again).")
@store_options
def demo_data(learners: int, days: int, seed: int, force: bool, data_dir: Path | None,
              store: str | None) -> None:
    """Fill a store of its own (data-demo/ unless --data-dir or --store says otherwise) with
    a month of made-up intranet, video and LMS traffic, through the real ingest path, and
    print a credential for the dashboard at /dashboard. A store that holds anything already
    is refused without --force: made-up statements, credentials and catalogue entries are
    not to be mixed into a live one."""
    from lrs.demo import fill, holds_data

    if data_dir is None and store is None:
        data_dir = DEMO_DATA_DIR
    settings = settings_from(data_dir=data_dir, store=store)
    if settings.store is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work(storage: Storage) -> Any:
        if not force and (found := await holds_data(storage)):
            raise click.ClickException(
                f"{settings.store_url()} already holds {found}: the demo would mix made-up "
                "data into it for good. Give the demo a store of its own (--data-dir), or "
                "pass --force to add it anyway.")
        return await fill(storage, settings, learners=learners, days=days, seed=seed)

    result = with_storage(settings, work)
    click.echo(f"Sent {result.statements} statements to {settings.store_url()}. Unique "
               "learners count today's only: the keys of past days are destroyed, so "
               "back-dated statements add hits, not learners.")
    serve = "lrs serve" + (f" --store {store}" if store else
                           f" --data-dir {settings.data_dir}")
    click.echo(f"Run `{serve}`, open "
               f"{settings.public_url.rstrip('/')}/dashboard and sign in with:")
    click.echo(f"key:    {result.reader.key}\nsecret: {result.reader_secret}")


@main.command("export")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The zip archive to write (replaced only once the export is complete).")
@click.option("--agent", "agent_json", metavar="AGENT_JSON",
              help="Only statements about this Agent or Group (xAPI `agent` filter).")
@click.option("--activity", help="Only statements about this activity id.")
@click.option("--verb", help="Only statements with this verb id.")
@click.option("--since", help="Only statements stored after this ISO 8601 date-time, or "
              "date (the start of that day, UTC).")
@click.option("--until", help="Only statements stored at or before this ISO 8601 date-time, "
              "or date (the start of that day, UTC).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@operator_option
@store_options
def export(output: Path, agent_json: str | None, activity: str | None, verb: str | None,
           since: str | None, until: str | None, quiet: bool, operator: str,
           data_dir: Path | None, store: str | None) -> None:
    """Export the kept statements matching a filter, with their attachments, as one zip:
    statements.jsonl, attachments/<sha2> and manifest.json (see docs/compliance.md)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from statements.export import export_archive
    from statements.query import StatementQuery, parse_query

    given = {"agent": agent_json, "activity": activity, "verb": verb, "since": since,
             "until": until}
    filters = {name: value for name, value in given.items() if value is not None}
    try:
        for name in ("since", "until"):
            if name in filters:
                filters[name] = date_or_timestamp(name, filters[name])
        query = parse_query(list(filters.items()), max_limit=1)
    except InvalidRequest as exc:
        raise click.UsageError("; ".join(
            f"--{p.path.lstrip('?')}: {p.message}" for p in exc.problems) or exc.message) \
            from None
    assert isinstance(query, StatementQuery)  # no statementId among the options
    settings = settings_from(data_dir=data_dir, store=store)
    partial = output.with_name(output.name + ".partial")
    progress = Progress(TextColumn("exporting"), BarColumn(),
                        TextColumn("{task.completed} statements"), TimeElapsedColumn(),
                        console=Console(stderr=True), disable=quiet)
    task = progress.add_task("export", total=None)

    async def run(storage: Storage) -> None:
        await record_action(storage, "evidence_export", operator=operator, now_ms=now_ms(),
                            person=query.agent,
                            detail={**{k: v for k, v in filters.items() if k != "agent"},
                                    "output": str(output.resolve())})
        with partial.open("wb") as out:
            async for chunk in export_archive(
                    storage.statements, query, described=filters,
                    progress=lambda n: progress.advance(task, n)):
                out.write(chunk)

    try:
        with progress:
            with_storage(settings, run)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    done = int(progress.tasks[0].completed)
    click.echo(f"exported {done} statement{'s' if done != 1 else ''} to {output}")
