"""`lrs catalogue add` (one entry, with its completion rule and validity) and `lrs report`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import orjson

from lrs.admin.audit import record_action
from lrs.cli_common import now_ms, operator_option, settings_from, store_options, with_storage
from lrs.reports import report_parts, report_rows
from lrs.storage import Storage
from plugins.catalogue import KINDS, CatalogueError, load_catalogue
from statements.completion import PERIOD_FORMAT, Period
from statements.compliance import as_of_window, date_or_timestamp, parse_roster, parse_window
from statements.datatypes import format_timestamp, from_ms
from statements.errors import InvalidRequest
from statements.report_formats import csv_report, json_report


@click.command("add")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("value")
@click.option("--name", help="What people call it.")
@click.option("--retention-days", type=int, help="Keep its statements this many days.")
@click.option("--verb", "verbs", multiple=True, metavar="IRI",
              help="Only statements with this verb complete it (repeat for several); "
              "default: completed, passed, mastered, satisfied or a result saying so.")
@click.option("--success-required", is_flag=True, help="A completion needs result.success true.")
@click.option("--min-score", type=float, help="A completion needs result.score.scaled at least "
              "this (-1 to 1).")
@click.option("--valid-for", metavar="PERIOD", help=f"A completion expires after this: "
              f"{PERIOD_FORMAT}.")
@click.option("--warn-before", metavar="PERIOD", help="Reported `expiring` this long before "
              "(default: LRS_COMPLIANCE_EXPIRING_WITHIN).")
@operator_option
@store_options
def catalogue_add(kind: str, value: str, name: str | None, retention_days: int | None,
                  verbs: tuple[str, ...], success_required: bool, min_score: float | None,
                  valid_for: str | None, warn_before: str | None, operator: str,
                  data_dir: Path | None, store: str | None) -> None:
    """Add one entry to the catalogue (or replace the one with the same KIND and VALUE),
    checked as an entry of a catalogue file is (docs/catalogue.md)."""
    raw: dict[str, Any] = {"kind": kind, "value": value, "name": name,
                           "retention_days": retention_days, "valid_for": valid_for,
                           "warn_before": warn_before}
    rule: dict[str, Any] = {"verbs": list(verbs) or None, "min_score": min_score,
                            "success_required": success_required or None}
    if any(v is not None for v in rule.values()):
        raw["completion"] = {k: v for k, v in rule.items() if v is not None}
    document = {"version": 1, "entries": [{k: v for k, v in raw.items() if v is not None}]}
    try:
        entries = load_catalogue(orjson.dumps(document).decode(), filename="options.json")
    except CatalogueError as exc:
        problems = [p.replace("options.json line 1, entries[0].", "--") for p in exc.problems]
        raise click.UsageError("\n".join(p.replace("_", "-") if p.startswith("--") else p
                                         for p in problems)) from None
    settings = settings_from(data_dir=data_dir, store=store)

    async def add(storage: Storage) -> None:
        await storage.catalogue.add(entries)
        await record_action(storage, "catalogue_add", operator=operator, now_ms=now_ms(),
                            counts={"entries": 1}, detail={"entries": f"{kind} {value}"})

    with_storage(settings, add)
    click.echo(f"added {kind} {value}")


@click.command("report")
@click.option("--activity", metavar="IRI", help="One activity.")
@click.option("--prefix", metavar="IRI", help="Every activity under this IRI prefix.")
@click.option("--since", help="Statements after this date-time or date (UTC).")
@click.option("--until", help="Statements at or before this date-time or date (UTC).")
@click.option("--as-of", help="What was true then: later statements are not read and "
              "validity is judged at this date-time or date (the start of that day, UTC). "
              "Default: now.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='A JSON file {"roster": [Agent, ...]}: exactly these people.')
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@operator_option
@store_options
def report(activity: str | None, prefix: str | None, since: str | None, until: str | None,
           as_of: str | None, roster: Path | None, fmt: str, operator: str,
           data_dir: Path | None, store: str | None) -> None:
    """Print the compliance report (the one /api/v1/compliance/report gives; with neither
    --activity nor --prefix, every catalogue entry) on standard output."""
    settings = settings_from(data_dir=data_dir, store=store)
    try:
        window = parse_window(since, until)
        moment = date_or_timestamp("as_of", as_of) if as_of is not None else None
        people = parse_roster(roster.read_bytes()) if roster is not None else None
    except InvalidRequest as exc:
        raise click.UsageError("; ".join(
            f"--{p.path.lstrip('?').replace('_', '-')}: {p.message}" for p in exc.problems)
            or exc.message) from None
    if moment is not None:
        window = as_of_window(window, moment)
    judged_at = moment or format_timestamp(from_ms(now_ms()))
    base = f"{settings.public_url.rstrip('/')}{settings.base_path}/statements?statementId="

    async def run(storage: Storage) -> None:
        try:
            parts, skipped = report_parts(
                await storage.catalogue.entries(), activity=activity, prefix=prefix,
                as_of=judged_at, default_warning=Period.parse(settings.compliance_expiring_within))
        except InvalidRequest as exc:
            raise click.UsageError("; ".join(f"--{p.path.lstrip('?')}: {p.message}"
                                             for p in exc.problems)) from None
        await record_action(storage, "compliance_report", operator=operator, now_ms=now_ms(),
                            detail={"entries": ", ".join(label for label, _, _ in parts),
                                    **{k: v for k, v in (("since", window.since),
                                                          ("until", window.until),
                                                          ("as_of", moment)) if v},
                                    "format": fmt},
                            counts={"roster": len(people)} if people is not None else None)
        rows = report_rows(storage.compliance, parts, window, people, storage.marks)
        url = lambda statement_id: base + quote(statement_id)  # noqa: E731
        header = {"since": window.since, "until": window.until, "as_of": judged_at,
                  "entries": [label for label, _, _ in parts], "entries_not_reported": skipped,
                  "roster": len(people) if people is not None else None}
        chunks = csv_report(rows, url) if fmt == "csv" else json_report(rows, header, url)
        async for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()

    with_storage(settings, run)
