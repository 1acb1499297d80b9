"""A Framework as plain JSON-able data, the same in every engine (and its inverse)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lrs.objectives import Format, Framework, Objective

_OBJECTIVE = ("iri", "title", "code", "description", "parent", "kind")
_FRAMEWORK = ("id", "iri", "title", "description", "publisher", "version", "licence",
              "source", "language")


def framework_to_record(framework: Framework) -> dict[str, Any]:
    """The framework as a JSON object; `loaded` in milliseconds since the epoch (UTC)."""
    record: dict[str, Any] = {k: getattr(framework, k) for k in _FRAMEWORK}
    record["format"] = framework.format.value
    record["loaded_ms"] = int(framework.loaded.timestamp() * 1000)
    record["objectives"] = [{k: v for k in _OBJECTIVE if (v := getattr(o, k)) is not None}
                            for o in framework.objectives]
    return record


def framework_from_record(record: dict[str, Any]) -> Framework:
    """The inverse of `framework_to_record`."""
    fields: dict[str, Any] = {k: record.get(k) for k in _FRAMEWORK}
    return Framework(
        **fields,
        format=Format(record["format"]),
        loaded=datetime.fromtimestamp(record["loaded_ms"] / 1000, UTC),
        objectives=tuple(Objective(**{k: o.get(k) for k in _OBJECTIVE})
                         for o in record["objectives"]))
