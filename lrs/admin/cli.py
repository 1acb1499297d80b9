"""`lrs credentials`: create, list, rotate and revoke credentials by name or key, and the
quick start's demo credential (the same operations as the admin API: lrs.admin.credentials)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from lrs.admin import credentials as admin
from lrs.cli_common import (
    admin_step,
    operator_option,
    settings_from,
    store_options,
    with_storage,
)
from lrs.credentials import CheckMode, Credential, DocumentPuts, Retention, Scope
from lrs.storage import Storage
from statements.compliance import parse_agent
from statements.errors import InvalidRequest

DEMO_NAME = "demo"


@click.group()
def credentials() -> None:
    """Create, list, rotate and revoke credentials (one per platform), by name or key."""


def _show(credential: Credential, secret: str, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps({"key": credential.key, "secret": secret,
                                 "name": credential.name}).decode())
    else:
        click.echo(f"name:   {credential.name}\nkey:    {credential.key}\nsecret: {secret}\n"
                   f"scopes: {','.join(sorted(s.value for s in credential.scopes))}\n"
                   f"retention: {credential.retention.value}\n"
                   f"checks: cmi5 {credential.cmi5.value}, profiles {credential.profiles.value}"
                   f"{', cmi5 LMS' if credential.cmi5_lms else ''}")


def _parse_scopes(value: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as exc:
        known = ", ".join(s.value for s in Scope)
        raise click.BadParameter(f"{exc}; known scopes: {known}") from None


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
@click.option("--document-puts", type=click.Choice([d.value for d in DocumentPuts]),
              default=DocumentPuts.STRICT.value, show_default=True,
              help="lenient: accept the document PUTs without If-Match/If-None-Match that "
                   "xAPI allows and TinCanPython sends (docs/compatibility.md).")
@click.option("--quarantine-days", type=click.IntRange(0, 365), default=0, show_default=True,
              help="Keep the statements it sends and has rejected this many days in the "
                   "quarantine, with their errors (docs/quarantine.md); 0: off.")
@click.option("--cmi5", type=click.Choice([m.value for m in CheckMode]),
              default=CheckMode.OFF.value, show_default=True,
              help="The cmi5 door check on what it sends (docs/cmi5.md).")
@click.option("--profiles", type=click.Choice([m.value for m in CheckMode]),
              default=CheckMode.OFF.value, show_default=True,
              help="The xAPI Profiles door check on what it sends (docs/profiles.md).")
@click.option("--cmi5-lms", is_flag=True,
              help="The cmi5 LMS's credential: may send satisfied, abandoned and waived.")
@click.option("--json", "as_json", is_flag=True, help="Print key and secret as JSON.")
@operator_option
@store_options
def create(name: str, scopes: str, retention: str, agent_json: str | None,
           document_puts: str, quarantine_days: int, cmi5: str, profiles: str,
           cmi5_lms: bool, as_json: bool, operator: str,
           data_dir: Path | None, store: str | None) -> None:
    """Create a credential and print its key and secret (shown only this once)."""
    settings = settings_from(data_dir=data_dir, store=store)
    agent = _parse_agent_option(agent_json, "--agent") if agent_json is not None else None
    credential, secret = admin_step(settings, lambda storage: admin.create(
        storage, name=name, scopes=_parse_scopes(scopes), retention=Retention(retention),
        agent=agent, public_url=settings.public_url, operator=operator,
        now=datetime.now(UTC), document_puts=DocumentPuts(document_puts),
        quarantine_days=quarantine_days, cmi5=CheckMode(cmi5), profiles=CheckMode(profiles),
        cmi5_lms=cmi5_lms))
    _show(credential, secret, as_json)


@credentials.command("set")
@click.argument("ref")
@click.option("--cmi5", type=click.Choice([m.value for m in CheckMode]),
              help="The cmi5 door check (docs/cmi5.md).")
@click.option("--profiles", type=click.Choice([m.value for m in CheckMode]),
              help="The xAPI Profiles door check (docs/profiles.md).")
@click.option("--cmi5-lms/--not-cmi5-lms", default=None,
              help="Whether it is the cmi5 LMS's credential (satisfied, abandoned, waived).")
@operator_option
@store_options
def set_(ref: str, cmi5: str | None, profiles: str | None, cmi5_lms: bool | None,
         operator: str, data_dir: Path | None, store: str | None) -> None:
    """Change the door checks of the credential named or keyed REF (the options given).
    Running servers apply it within LRS_CREDENTIAL_CACHE_SECONDS."""
    if cmi5 is None and profiles is None and cmi5_lms is None:
        raise click.UsageError("nothing to change: give --cmi5, --profiles or --cmi5-lms")
    settings = settings_from(data_dir=data_dir, store=store)
    done = admin_step(settings, lambda storage: admin.set_checks(
        storage, ref, cmi5=CheckMode(cmi5) if cmi5 else None,
        profiles=CheckMode(profiles) if profiles else None, cmi5_lms=cmi5_lms,
        operator=operator, now=datetime.now(UTC)))
    click.echo(f"{done.name} (key {done.key}): cmi5 {done.cmi5.value}, profiles "
               f"{done.profiles.value}, cmi5 LMS {'yes' if done.cmi5_lms else 'no'}")


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
    settings = settings_from(data_dir=data_dir, store=store)
    found = with_storage(settings, lambda storage: storage.credentials.list())
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
@operator_option
@store_options
def revoke(ref: str, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Revoke the credential named or keyed REF."""
    settings = settings_from(data_dir=data_dir, store=store)
    done = admin_step(settings, lambda storage: admin.revoke(
        storage, ref, operator=operator, now=datetime.now(UTC)))
    click.echo(f"revoked {done.name} (key {done.key})")


@credentials.command("rotate")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print key and secret as JSON.")
@operator_option
@store_options
def rotate(ref: str, as_json: bool, operator: str, data_dir: Path | None,
           store: str | None) -> None:
    """Give the credential named or keyed REF a new secret and print it (shown only this
    once). The old secret stops working within LRS_CREDENTIAL_CACHE_SECONDS."""
    settings = settings_from(data_dir=data_dir, store=store)
    credential, secret = admin_step(settings, lambda storage: admin.rotate(
        storage, ref, operator=operator, now=datetime.now(UTC)))
    _show(credential, secret, as_json)


@credentials.command("demo")
@store_options
def demo(data_dir: Path | None, store: str | None) -> None:
    """Make sure the demo credential exists; print its key and secret when it is created.

    Secrets are only kept hashed: later runs leave it as it is (anything wired to it keeps
    working) and say how to get a new secret.
    """
    settings = settings_from(data_dir=data_dir, store=store)

    async def ensure(storage: Storage) -> tuple[Credential, str | None]:
        existing = await storage.credentials.find_by_name(DEMO_NAME)
        if existing is not None:
            return existing, None
        return await admin.create(storage, name=DEMO_NAME, scopes=[Scope.ALL],
                                  retention=Retention.FULL, agent=None,
                                  public_url=settings.public_url, operator="cli",
                                  now=datetime.now(UTC))

    credential, secret = with_storage(settings, ensure)
    if secret is None:
        click.echo(f"The demo credential exists (key {credential.key}); its secret was "
                   "printed when it was created. For a new one: "
                   f"lrs credentials rotate {DEMO_NAME}")
        return
    click.echo("Demo credential (scope all, retention full), its secret shown only now:")
    _show(credential, secret, False)
    click.echo(f"Try: curl -u {credential.key}:{secret} -H 'X-Experience-API-Version: 1.0.3' "
               f"{settings.public_url.rstrip('/')}{settings.base_path}/statements")
