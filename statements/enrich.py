"""LRS-set properties (Data §2.4.1, §2.4.7-2.4.10): a pure function of the sent statement."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statements.datatypes import (
    format_timestamp,
    normalise_timestamp,
    parse_timestamp,
    timestamp_ms,
)
from statements.equivalence import content_hash
from statements.indexing import StatementIndex, index_statement
from statements.models import VOIDED
from statements.versions import XapiVersion


@dataclass(frozen=True)
class StoredStatement:
    """A statement as the LRS keeps it: enriched, hashed and with its lookup keys."""

    id: str
    stored_ms: int
    statement: dict[str, Any]
    content_hash: str

    @functools.cached_property
    def index(self) -> StatementIndex:
        """The lookup keys, computed when first needed (a tallied statement never is)."""
        return index_statement(self.statement)

    @property
    def voids(self) -> str | None:
        """The id this statement voids, if it is a voiding statement (Data §2.3.2)."""
        obj = self.statement["object"]
        if self.statement["verb"]["id"] == VOIDED and obj.get("objectType") == "StatementRef":
            return str(obj["id"]).lower()
        return None


def enrich(
    sent: dict[str, Any],
    *,
    statement_id: str,
    stored: datetime,
    authority: dict[str, Any],
    version: XapiVersion,
    keep_lrs_set: bool = False,
) -> StoredStatement:
    """Return the statement to store, with `id`, `stored`, `timestamp`, `authority`, `version`.

    The caller supplies the clock (`stored`) and the id for statements sent without one, so
    this function is deterministic. With `keep_lrs_set` (a migration from another LRS, an
    administrator's operation), the `stored` and `authority` the statement carries are kept
    instead (Data §2.4.9.s3.b5: a submitted authority MAY be kept for a strongly trusted
    sender); `stored` is kept to the millisecond, as every `stored` here is.
    """
    if keep_lrs_set:
        stored = parse_timestamp(sent["stored"]) if "stored" in sent else stored
        authority = sent.get("authority", authority)
    stored_text = format_timestamp(stored)
    statement = dict(sent)
    statement["id"] = statement_id
    statement["stored"] = stored_text  # always overwritten (Data §2.4.8.s3.b2)
    # 2.0 L4.2.7: timestamps become UTC; a missing one is `stored` (D2.4.7.s3.b2, L4.2.4.2).
    statement["timestamp"] = (
        normalise_timestamp(sent["timestamp"]) if "timestamp" in sent else stored_text
    )
    statement["authority"] = authority  # from the credential (Data §2.4.9.s3.b2)
    statement.setdefault("version", version.statement_default)  # D2.4.10.s3.b3
    if "context" in statement:
        statement["context"] = _arrays_of_context_activities(statement["context"])
    obj = statement["object"]
    if obj.get("objectType") == "SubStatement":
        obj = dict(obj)
        if "timestamp" in obj:
            obj["timestamp"] = normalise_timestamp(obj["timestamp"])
        if "context" in obj:
            obj["context"] = _arrays_of_context_activities(obj["context"])
        statement["object"] = obj
    return StoredStatement(
        id=statement_id,
        stored_ms=timestamp_ms(stored),
        statement=statement,
        content_hash=content_hash(sent),
    )


def _arrays_of_context_activities(context: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.6.2.s4.b3-b4: every contextActivities value is returned as an array.
    activities = context.get("contextActivities")
    if not activities:
        return context
    return {
        **context,
        "contextActivities": {
            kind: value if isinstance(value, list) else [value]
            for kind, value in activities.items()
        },
    }
