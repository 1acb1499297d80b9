"""Hook specifications: the extension points of the LRS (entry-point group `lrs`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from plugins.catalogue import Catalogue

PROJECT = "lrs"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Decision(StrEnum):
    """What becomes of one accepted statement (DESIGN §3)."""

    FULL = "full"  # kept in full, queryable, voidable, exportable
    TALLY = "tally"  # reduced to an anonymous hit; the statement itself is not kept
    DROP = "drop"  # accepted, counted in metrics, stored nowhere


@dataclass(frozen=True)
class RetentionContext:
    """What a retention rule may know besides the statement itself."""

    credential_key: str
    credential_name: str
    credential_default: Decision
    server_default: Decision
    catalogue: Catalogue
    # For voiding statements in the batch: how each known target was handled (by id).
    voided_targets: dict[str, Decision] = field(default_factory=dict)


@hookspec(firstresult=True)
def lrs_retention_decide(statement: dict[str, Any], context: RetentionContext
                         ) -> Decision | None:
    """Decide what becomes of a validated, enriched statement.

    Called once per statement, before anything is stored. The first implementation that
    returns a Decision wins; return None to let the next rule decide. Built-in rules run
    in this order: compliance catalogue and voiding (tryfirst), then third-party plugins,
    then the credential's default and the server default (trylast).
    """


@hookspec
def lrs_statements_stored(statements: list[dict[str, Any]], credential_name: str) -> None:
    """Called after statements kept in full are committed (enriched statements, in order):
    those stored for the first time; an exact retry of one is not notified again."""


@hookspec
def lrs_hits_tallied(hits: list[Any], credential_name: str) -> None:
    """Called after tallied statements are committed as hits (`aggregation.hits.Hit`: no
    identity ever reaches this hook); a retried statement's hit is not counted or notified
    again."""


@hookspec
def lrs_profiles_documents() -> list[dict[str, Any]]:
    """Return xAPI Profile documents (parsed JSON-LD, as published) for the door to check
    statements against (docs/profiles.md); called once when the app starts. A package ships
    a profile by implementing this hook in a plugin of the `lrs` entry-point group."""
    return []  # a specification: pluggy never runs its body
