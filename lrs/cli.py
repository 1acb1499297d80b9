"""The `lrs` command: serve, and manage credentials, the catalogue and the store."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from pydantic import SecretStr

from lrs.admin import credentials as admin
from lrs.admin.audit import record_action
from lrs.admin.settings_view import metrics_exposure
from lrs.config import Settings
from lrs.credentials import Credential, Retention, Scope
from lrs.storage import Storage, open_storage
from plugins.catalogue import CatalogueError, dump_catalogue, load_catalogue
from statements.compliance import date_or_timestamp, parse_agent
from statements.datatypes import parse_timestamp
from statements.errors import Conflict, InvalidRequest, NotFound

T = TypeVar("T")
DEMO_NAME = "demo"


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    return Settings(**given)


def _with_storage(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    async def run() -> T:
        storage = await open_storage(settings)
        try:
            return await work(storage)
        finally:
            await storage.close()

    return asyncio.run(run())


@click.group()
def main() -> None:
    """tally-lrs: an xAPI learning record store with lite-tracking."""


_store_options = [
    click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory."),
    click.option("--store", help="sqlite:///path/to/file.db or mongodb://… URL."),
]


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --data-dir and --store to a command."""
    for option in reversed(_store_options):
        func = option(func)
    return func


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

    settings = _settings(host=host, port=port, workers=workers, data_dir=data_dir, store=store)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Workers are separate processes: hand them the same settings through the environment.
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            secret = getattr(settings, name)
            text = (secret.get_secret_value() if isinstance(secret, SecretStr)  # not "****"
                    else value if isinstance(value, str) else orjson.dumps(value).decode())
            os.environ[f"LRS_{name.upper()}"] = text
    # Create or migrate the store once, before any worker starts.
    _with_storage(settings, lambda storage: asyncio.sleep(0))
    click.echo(f"tally-lrs on http://{settings.host}:{settings.port}{settings.base_path}/ "
               f"(store: {settings.store_url()})")
    if metrics_exposure(settings) == "not served":
        click.echo("metrics: not served (set LRS_METRICS_TOKEN or LRS_METRICS_PORT; see "
                   "docs/operations.md)")
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
def credentials() -> None:
    """Create, list, rotate and revoke credentials (one per platform), by name or key."""


_operator_option = click.option("--operator", default="cli", show_default=True,
                                help="Who runs it, for the audit log.")


def _show(credential: Credential, secret: str, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps({"key": credential.key, "secret": secret,
                                 "name": credential.name}).decode())
    else:
        click.echo(f"name:   {credential.name}\nkey:    {credential.key}\nsecret: {secret}\n"
                   f"scopes: {','.join(sorted(s.value for s in credential.scopes))}\n"
                   f"retention: {credential.retention.value}")


def _parse_scopes(value: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as exc:
        known = ", ".join(s.value for s in Scope)
        raise click.BadParameter(f"{exc}; known scopes: {known}") from None


def _admin_step(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    """Run an administration step; its refusal (no such credential, a name in use) is the
    command's error message."""
    try:
        return _with_storage(settings, work)
    except (NotFound, Conflict) as exc:
        raise click.ClickException(exc.message) from None


@credentials.command("create")
@click.option("--name", required=True, help="The platform's name (unique among the "
              "unrevoked credentials).")
@click.option("--scopes", required=True, help="Comma-separated, e.g. statements/write,state.")
@click.option("--retention", type=click.Choice([r.value for r in Retention]),
              default=Retention.TALLY.value, show_default=True,
              help="What the retention chain does by default with what it sends.")
@click.option("--agent", "agent_json", metavar="AGENT_JSON",
              help="Bind the credential to a learner: this Agent becomes its authority, and "
                   "with statements/read/mine it reads the statements whose authority or "
                   "actor is this learner.")
@click.option("--json", "as_json", is_flag=True, help="Print key and secret as JSON.")
@_operator_option
@store_options
def create(name: str, scopes: str, retention: str, agent_json: str | None, as_json: bool,
           operator: str, data_dir: Path | None, store: str | None) -> None:
    """Create a credential and print its key and secret (shown only this once)."""
    settings = _settings(data_dir=data_dir, store=store)
    agent = _parse_agent_option(agent_json, "--agent") if agent_json is not None else None
    credential, secret = _admin_step(settings, lambda storage: admin.create(
        storage, name=name, scopes=_parse_scopes(scopes), retention=Retention(retention),
        agent=agent, public_url=settings.public_url, operator=operator,
        now=datetime.now(UTC)))
    _show(credential, secret, as_json)


def _parse_agent_option(raw: str, option: str) -> dict[str, Any]:
    try:
        return parse_agent(orjson.loads(raw), option)[1]
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    except InvalidRequest as exc:
        raise click.BadParameter("; ".join(f"{p.path}: {p.message}" for p in exc.problems),
                                 param_hint=option) from None


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else "-"


@credentials.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON array, as GET /api/v1/admin/credentials answers.")
@store_options
def list_(as_json: bool, data_dir: Path | None, store: str | None) -> None:
    """List credentials (never their secrets), oldest first."""
    settings = _settings(data_dir=data_dir, store=store)
    found = _with_storage(settings, lambda storage: storage.credentials.list())
    if as_json:
        click.echo(orjson.dumps([admin.describe(c) for c in found]).decode())
        return
    rows = [("KEY", "NAME", "RETENTION", "STATE", "LAST USED", "SCOPES")]
    rows += [(c.key, c.name, c.retention.value,
              f"revoked {c.revoked:%Y-%m-%d}" if c.revoked else "active", _when(c.last_used),
              ",".join(sorted(s.value for s in c.scopes))) for c in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)),
                              row[-1]]).rstrip())


@credentials.command("revoke")
@click.argument("ref")
@_operator_option
@store_options
def revoke(ref: str, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Revoke the credential named or keyed REF."""
    settings = _settings(data_dir=data_dir, store=store)
    done = _admin_step(settings, lambda storage: admin.revoke(
        storage, ref, operator=operator, now=datetime.now(UTC)))
    click.echo(f"revoked {done.name} (key {done.key})")


@credentials.command("rotate")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print key and secret as JSON.")
@_operator_option
@store_options
def rotate(ref: str, as_json: bool, operator: str, data_dir: Path | None,
           store: str | None) -> None:
    """Give the credential named or keyed REF a new secret and print it (shown only this
    once). The old secret stops working within LRS_CREDENTIAL_CACHE_SECONDS."""
    settings = _settings(data_dir=data_dir, store=store)
    credential, secret = _admin_step(settings, lambda storage: admin.rotate(
        storage, ref, operator=operator, now=datetime.now(UTC)))
    _show(credential, secret, as_json)


@credentials.command("demo")
@store_options
def demo(data_dir: Path | None, store: str | None) -> None:
    """Make sure the demo credential exists; print its key and secret when it is created.

    Secrets are only kept hashed: later runs leave it as it is (anything wired to it keeps
    working) and say how to get a new secret.
    """
    settings = _settings(data_dir=data_dir, store=store)

    async def ensure(storage: Storage) -> tuple[Credential, str | None]:
        existing = await storage.credentials.find_by_name(DEMO_NAME)
        if existing is not None:
            return existing, None
        return await admin.create(storage, name=DEMO_NAME, scopes=[Scope.ALL],
                                  retention=Retention.FULL, agent=None,
                                  public_url=settings.public_url, operator="cli",
                                  now=datetime.now(UTC))

    credential, secret = _with_storage(settings, ensure)
    if secret is None:
        click.echo(f"The demo credential exists (key {credential.key}); its secret was "
                   "printed when it was created. For a new one: "
                   f"lrs credentials rotate {DEMO_NAME}")
        return
    click.echo("Demo credential (scope all, retention full), its secret shown only now:")
    _show(credential, secret, False)
    click.echo(f"Try: curl -u {credential.key}:{secret} -H 'X-Experience-API-Version: 1.0.3' "
               f"{settings.public_url.rstrip('/')}{settings.base_path}/statements")


@main.group()
def catalogue() -> None:
    """The compliance catalogue: activities whose statements are kept in full."""


@catalogue.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_operator_option
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
    settings = _settings(data_dir=data_dir, store=store)

    async def load(storage: Storage) -> None:
        await storage.catalogue.replace(entries)
        await record_action(storage, "catalogue_load", operator=operator, now_ms=_now_ms(),
                            counts={"entries": len(entries)}, detail={"file": file.name})

    _with_storage(settings, load)
    click.echo(f"loaded {len(entries)} catalogue entries from {file}")


@catalogue.command("export")
@store_options
def catalogue_export(data_dir: Path | None, store: str | None) -> None:
    """Print the catalogue in the format `lrs catalogue load` reads."""
    settings = _settings(data_dir=data_dir, store=store)
    click.echo(dump_catalogue(_with_storage(settings, lambda s: s.catalogue.entries())))


@main.command()
@store_options
def migrate(data_dir: Path | None, store: str | None) -> None:
    """Create or upgrade the store's schema and indexes (idempotent; `serve` does it too)."""
    settings = _settings(data_dir=data_dir, store=store)

    async def engine_of(storage: Storage) -> str:  # opening the store migrates it
        return storage.engine

    click.echo(f"{_with_storage(settings, engine_of)} store at {settings.store_url()} "
               "is up to date")


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


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
    now_ms = _ms_of_option("--as-of", as_of) if as_of else _now_ms()
    from lrs.erasure import purge as run_purge
    from lrs.erasure import retention_policy
    from plugins.catalogue import Catalogue

    settings = _settings(data_dir=data_dir, store=store)

    async def work(storage: Storage) -> Any:
        policy = retention_policy(settings, Catalogue(await storage.catalogue.entries()))
        return await run_purge(storage, policy, now_ms=now_ms, operator=operator,
                               dry_run=dry_run)

    report = _with_storage(settings, work)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {report.statements} statements past their retention period")
    for name, count in sorted(report.by_class.items()):
        click.echo(f"  {count:>8}  {name}")
    if not dry_run and report.statements:
        click.echo(f"attachments deleted: {report.done['attachments_deleted']}")


@main.command()
@click.option("--agent", "agent_json", required=True,
              help='The person as an xAPI Agent, e.g. \'{"mbox": "mailto:a@example.com"}\'.')
@click.option("--operator", default="cli", show_default=True,
              help="Who runs it, for the audit log.")
@store_options
def forget(agent_json: str, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Erase a person: their statements, documents and attachments (docs/retention.md)."""
    from lrs.erasure import forget as run_forget
    from statements.document_params import parse_agent_param
    from statements.errors import InvalidRequest

    try:
        key = parse_agent_param(agent_json)
    except InvalidRequest as exc:
        where = "; ".join(f"{p.path.replace('?agent', '--agent', 1)}: {p.message}"
                          for p in exc.problems)
        raise click.BadParameter(where, param_hint="--agent") from None
    settings = _settings(data_dir=data_dir, store=store)
    report = _with_storage(settings, lambda storage: run_forget(
        storage, key, now_ms=_now_ms(), operator=operator))
    for at in report.earlier:
        when = datetime.fromtimestamp(at / 1000, UTC).isoformat(timespec="seconds")
        click.echo(f"this agent was already erased on {when}")
    done = report.done
    click.echo(f"statements deleted: {done['statements_deleted']}, rewritten: "
               f"{done['statements_rewritten']}; documents deleted: "
               f"{done['documents_deleted']}; attachments deleted: "
               f"{done['attachments_deleted']}")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--credential", "credential_ref", metavar="REF", required=True,
              help="Name or key of the credential the statements are attributed to; its "
              "retention default applies.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="Where rejected statements are listed (default FILE.rejects.jsonl).")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint: start from the top.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--xapi-version", type=click.Choice(["1.0.3", "2.0.0"]),
              help="Version the statements are validated as (default: the server's).")
@store_options
def import_(file: Path, credential_ref: str, rejects: Path | None, restart: bool,
            batch_size: int, xapi_version: str | None, data_dir: Path | None,
            store: str | None) -> None:
    """Import statements from FILE (JSON Lines, or a JSON array) through the retention chain.

    Idempotent and resumable: see docs/import.md.
    """
    from rich.console import Console
    from rich.progress import Progress

    from lrs.importer import REJECTS_SUFFIX, Importer, ImportFailed
    from statements.versions import XapiVersion

    settings = _settings(data_dir=data_dir, store=store)
    version = XapiVersion(xapi_version) if xapi_version else settings.default_xapi_version
    rejects_path = rejects or Path(str(file) + REJECTS_SUFFIX)
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
            task = bar.add_task(f"importing {file.name}", total=None)
            importer = Importer(storage, settings, credential, file, rejects_path, version,
                                batch_size, lambda done, total: bar.update(
                                    task, completed=done, total=total))
            return await importer.run(restart=restart)

    try:
        summary = _with_storage(settings, work)
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    if summary.already_done:
        click.echo(f"{file} was already imported (remove {file}.import-checkpoint.json or "
                   "pass --restart to import it again; nothing would be stored twice)")
    click.echo(summary.line())
    if summary.counts["rejected"]:
        click.echo(f"rejected statements, with reasons: {rejects_path}")


@main.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@store_options
def backup_command(destination: Path, data_dir: Path | None, store: str | None) -> None:
    """Copy the SQLite store into the new file DESTINATION, safely while the LRS runs.

    Restore by stopping the LRS and putting the copy in place of the store file. For
    MongoDB use mongodump (see docs/operations.md).
    """
    from statements.errors import StoreUnavailable
    from statements.stores.sqlite_db import backup

    settings = _settings(data_dir=data_dir, store=store)
    url = settings.store_url()
    if not url.startswith("sqlite:///"):
        raise click.ClickException("lrs backup copies an SQLite store; for MongoDB use "
                                   "mongodump (see docs/operations.md)")
    try:
        backup(Path(url.removeprefix("sqlite:///")), destination)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up {url} to {destination}")


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
    settings = _settings(data_dir=data_dir, store=store)
    if settings.store is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work(storage: Storage) -> Any:
        if not force and (found := await holds_data(storage)):
            raise click.ClickException(
                f"{settings.store_url()} already holds {found}: the demo would mix made-up "
                "data into it for good. Give the demo a store of its own (--data-dir), or "
                "pass --force to add it anyway.")
        return await fill(storage, settings, learners=learners, days=days, seed=seed)

    result = _with_storage(settings, work)
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
@_operator_option
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
    settings = _settings(data_dir=data_dir, store=store)
    partial = output.with_name(output.name + ".partial")
    progress = Progress(TextColumn("exporting"), BarColumn(),
                        TextColumn("{task.completed} statements"), TimeElapsedColumn(),
                        console=Console(stderr=True), disable=quiet)
    task = progress.add_task("export", total=None)

    async def run(storage: Storage) -> None:
        await record_action(storage, "evidence_export", operator=operator, now_ms=_now_ms(),
                            person=query.agent,
                            detail={k: v for k, v in filters.items() if k != "agent"})
        with partial.open("wb") as out:
            async for chunk in export_archive(
                    storage.statements, query, described=filters,
                    progress=lambda n: progress.advance(task, n)):
                out.write(chunk)

    try:
        with progress:
            _with_storage(settings, run)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    done = int(progress.tasks[0].completed)
    click.echo(f"exported {done} statement{'s' if done != 1 else ''} to {output}")
