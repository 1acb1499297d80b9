"""`lrs forwarding`: destinations, rules, status and dead letters from the command line (the
same operations as the admin API: lrs.forwarding.admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from lrs.cli_common import admin_step, now_ms, operator_option, settings_from, store_options
from lrs.forwarding import admin
from lrs.forwarding.admin import M
from statements.errors import InvalidRequest


@click.group()
def forwarding() -> None:
    """Forward kept statements (and anonymous hits) to another LRS or a webhook."""


def _parsed(model: type[M], fields: dict[str, Any], what: str) -> M:
    try:
        return admin.parse(model, orjson.dumps(fields), what)
    except InvalidRequest as exc:
        raise click.ClickException("; ".join(
            [exc.message, *(f"{p.path.removeprefix('$.')}: {p.message}"
                            for p in exc.problems)])) from None


def _echo(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@forwarding.command("add-destination")
@click.option("--name", required=True, help="A name of your choosing (unique).")
@click.option("--kind", type=click.Choice(["xapi", "webhook"]), required=True)
@click.option("--url", required=True, help="The LRS's xAPI endpoint (…/xapi) or the "
              "webhook's URL.")
@click.option("--secret", required=True, help="The LRS password (with --username) or the "
              "webhook's shared HMAC secret; stored as given, since it must be sent.")
@click.option("--username", default="", help="The LRS's Basic user name (its key).")
@click.option("--xapi-version", type=click.Choice(["1.0.3", "2.0.0"]), default="1.0.3",
              show_default=True)
@operator_option
@store_options
def add_destination(name: str, kind: str, url: str, secret: str, username: str,
                    xapi_version: str, operator: str, data_dir: Path | None,
                    store: str | None) -> None:
    """Add a destination; print it (never its secret)."""
    sent = _parsed(admin.NewDestination, {
        "name": name, "kind": kind, "url": url, "secret": secret, "username": username,
        "xapi_version": xapi_version}, "destination")
    made = admin_step(settings_from(data_dir=data_dir, store=store), lambda storage:
                      admin.add_destination(storage, sent, operator=operator, now_ms=now_ms()))
    _echo(admin.describe_destination(made))


@forwarding.command("add-rule")
@click.option("--destination", required=True, help="The destination's name or id.")
@click.option("--decision", type=click.Choice(["kept", "tallied"]), default="kept",
              show_default=True, help="tallied: forward the anonymous hit (webhooks only).")
@click.option("--verb", "verbs", multiple=True, help="Only this verb IRI (repeatable).")
@click.option("--activity", default="", help="Only this activity IRI, or prefix ending in *.")
@click.option("--credential", "credentials", multiple=True,
              help="Only statements sent with this credential name (repeatable).")
@operator_option
@store_options
def add_rule(destination: str, decision: str, verbs: tuple[str, ...], activity: str,
             credentials: tuple[str, ...], operator: str, data_dir: Path | None,
             store: str | None) -> None:
    """Add a rule; print it."""
    sent = _parsed(admin.NewRule, {
        "destination": destination, "decision": decision, "verbs": list(verbs),
        "activity": activity, "credentials": list(credentials)}, "rule")
    rule = admin_step(settings_from(data_dir=data_dir, store=store), lambda storage:
                      admin.add_rule(storage, sent, operator=operator, now_ms=now_ms()))
    _echo(admin.describe_rule(rule))


@forwarding.command("list")
@store_options
def list_all(data_dir: Path | None, store: str | None) -> None:
    """The destinations (never a secret) and the rules."""
    async def read(storage: Any) -> dict[str, Any]:
        return {"destinations": [admin.describe_destination(d)
                                 for d in await storage.forwarding.destinations()],
                "rules": [admin.describe_rule(r) for r in await storage.forwarding.rules()]}

    _echo(admin_step(settings_from(data_dir=data_dir, store=store), read))


@forwarding.command("remove-destination")
@click.argument("ref")
@operator_option
@store_options
def remove_destination(ref: str, operator: str, data_dir: Path | None,
                       store: str | None) -> None:
    """Remove a destination (name or id) with its rules and queued items."""
    admin_step(settings_from(data_dir=data_dir, store=store), lambda storage:
               admin.remove_destination(storage, ref, operator=operator, now_ms=now_ms()))


@forwarding.command("remove-rule")
@click.argument("rule_id")
@operator_option
@store_options
def remove_rule(rule_id: str, operator: str, data_dir: Path | None, store: str | None) -> None:
    """Remove a rule."""
    admin_step(settings_from(data_dir=data_dir, store=store), lambda storage:
               admin.remove_rule(storage, rule_id, operator=operator, now_ms=now_ms()))


@forwarding.command("status")
@store_options
def status(data_dir: Path | None, store: str | None) -> None:
    """Per destination: queued, dead letters, delivered, lag, last error."""
    _echo(admin_step(settings_from(data_dir=data_dir, store=store),
                     lambda storage: admin.status(storage, now_ms())))


@forwarding.command("dead")
@click.argument("ref")
@store_options
def dead(ref: str, data_dir: Path | None, store: str | None) -> None:
    """A destination's dead letters, oldest first."""
    async def read(storage: Any) -> list[dict[str, Any]]:
        found = await admin.find_destination(storage, ref)
        return [admin.describe_dead(d) for d in await storage.forwarding.dead_letters(found.id)]

    _echo(admin_step(settings_from(data_dir=data_dir, store=store), read))


@forwarding.command("replay")
@click.argument("ref")
@click.option("--key", "keys", multiple=True, help="Only this dead letter (repeatable).")
@click.option("--discard", is_flag=True, help="Delete them instead of sending them again.")
@operator_option
@store_options
def replay(ref: str, keys: tuple[str, ...], discard: bool, operator: str,
           data_dir: Path | None, store: str | None) -> None:
    """Queue a destination's dead letters again (all, or --key ones), or --discard them."""
    done = admin_step(settings_from(data_dir=data_dir, store=store), lambda storage:
                      admin.replay_or_discard(storage, ref, list(keys) or None,
                                              discard=discard, operator=operator,
                                              now_ms=now_ms()))
    click.echo(f"{'discarded' if discard else 'replayed'} {done}")
