"""The `lrs` command: serve, and manage credentials."""

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

from lrs.config import Settings
from lrs.credentials import (
    Credential,
    Retention,
    Scope,
    authority_for,
    hash_secret,
    new_key,
    new_secret,
)
from lrs.storage import Storage, open_storage
from plugins.catalogue import CatalogueError, dump_catalogue, load_catalogue

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
    # One JSON line per request comes from lrs.requestlog; uvicorn's access log would repeat
    # it with the raw path and query string, where xAPI clients put agents.
    uvicorn.run("lrs.app:create_app_from_environment", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level=settings.log_level,
                log_config=logging_config(settings.log_level), access_log=False,
                proxy_headers=False, server_header=False,
                # Past this many connections uvicorn answers 503 rather than grow.
                limit_concurrency=settings.max_connections)


@main.group()
def credentials() -> None:
    """Create, list and revoke credentials (one per platform)."""


def _new_credential(settings: Settings, name: str, scopes: frozenset[Scope],
                    retention: Retention) -> tuple[Credential, str]:
    key, secret = new_key(), new_secret()
    credential = Credential(
        key=key, name=name, secret_hash=hash_secret(secret), scopes=scopes,
        retention=retention, authority=authority_for(key, name, settings.public_url),
        created=datetime.now(UTC),
    )
    return credential, secret


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


@credentials.command("create")
@click.option("--name", required=True, help="The platform's name.")
@click.option("--scopes", required=True, help="Comma-separated, e.g. statements/write,state.")
@click.option("--retention", type=click.Choice([r.value for r in Retention]),
              default=Retention.TALLY.value, show_default=True,
              help="What the retention chain does by default with what it sends.")
@click.option("--json", "as_json", is_flag=True, help="Print key and secret as JSON.")
@store_options
def create(name: str, scopes: str, retention: str, as_json: bool, data_dir: Path | None,
           store: str | None) -> None:
    """Create a credential and print its key and secret (shown only this once)."""
    settings = _settings(data_dir=data_dir, store=store)
    credential, secret = _new_credential(settings, name, _parse_scopes(scopes),
                                         Retention(retention))
    _with_storage(settings, lambda storage: storage.credentials.add(credential))
    _show(credential, secret, as_json)


@credentials.command("list")
@store_options
def list_(data_dir: Path | None, store: str | None) -> None:
    """List credentials (never their secrets)."""
    settings = _settings(data_dir=data_dir, store=store)
    for c in _with_storage(settings, lambda storage: storage.credentials.list()):
        state = f"revoked {c.revoked:%Y-%m-%d}" if c.revoked else "active"
        click.echo(f"{c.key}  {c.name:<20} {c.retention.value:<6} {state:<18} "
                   f"{','.join(sorted(s.value for s in c.scopes))}")


@credentials.command("revoke")
@click.argument("key")
@store_options
def revoke(key: str, data_dir: Path | None, store: str | None) -> None:
    """Revoke the credential with this key."""
    settings = _settings(data_dir=data_dir, store=store)
    if not _with_storage(settings, lambda s: s.credentials.revoke(key, datetime.now(UTC))):
        raise click.ClickException(f"no active credential with key {key}")
    click.echo(f"revoked {key}")


@credentials.command("demo")
@store_options
def demo(data_dir: Path | None, store: str | None) -> None:
    """Make sure the demo credential exists, give it a fresh secret and print both.

    Secrets are only kept hashed, so showing the demo secret again means replacing it.
    """
    settings = _settings(data_dir=data_dir, store=store)

    async def ensure(storage: Storage) -> tuple[Credential, str]:
        existing = await storage.credentials.find_by_name(DEMO_NAME)
        if existing is None:
            credential, secret = _new_credential(settings, DEMO_NAME, frozenset({Scope.ALL}),
                                                 Retention.FULL)
            await storage.credentials.add(credential)
            return credential, secret
        secret = new_secret()
        await storage.credentials.replace_secret(existing.key, hash_secret(secret))
        return existing, secret

    credential, secret = _with_storage(settings, ensure)
    click.echo("Demo credential (scope all, retention full):")
    _show(credential, secret, False)
    click.echo(f"Try: curl -u {credential.key}:{secret} -H 'X-Experience-API-Version: 1.0.3' "
               f"{settings.public_url.rstrip('/')}{settings.base_path}/statements")


@main.group()
def catalogue() -> None:
    """The compliance catalogue: activities whose statements are kept in full."""


@catalogue.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_options
def catalogue_load(file: Path, data_dir: Path | None, store: str | None) -> None:
    """Replace the catalogue with FILE (JSON or YAML; see docs/catalogue.md).

    Applies to statements arriving afterwards: what was tallied cannot be brought back.
    """
    try:
        entries = load_catalogue(file.read_text(encoding="utf-8"), filename=file.name)
    except CatalogueError as exc:
        raise click.ClickException("\n".join(["the catalogue is not valid:", *exc.problems])) \
            from None
    settings = _settings(data_dir=data_dir, store=store)
    _with_storage(settings, lambda storage: storage.catalogue.replace(entries))
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
