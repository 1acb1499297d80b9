"""Test data factories: `make_statement(**overrides)` instead of copied JSON."""

from __future__ import annotations

import copy
import uuid
from typing import Any

VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE = "http://example.com/activities/fire-safety"


def make_agent(name: str = "alice", **overrides: Any) -> dict[str, Any]:
    """An Agent identified by mbox."""
    agent: dict[str, Any] = {"objectType": "Agent", "name": name.title(),
                             "mbox": f"mailto:{name}@example.com"}
    agent.update(overrides)
    return agent


def make_statement(**overrides: Any) -> dict[str, Any]:
    """A valid statement; keyword arguments replace top-level properties (None removes one)."""
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": make_agent(),
        "verb": {"id": VERB_COMPLETED, "display": {"en-US": "completed", "fr-FR": "a terminé"}},
        "object": {"objectType": "Activity", "id": COURSE, "definition": {
            "name": {"en-US": "Fire safety", "fr-FR": "Sécurité incendie"},
            "type": "http://adlnet.gov/expapi/activities/course"}},
        "result": {"completion": True, "success": True, "score": {"scaled": 0.9},
                   "duration": "PT12M30S"},
        "context": {"registration": str(uuid.uuid4()), "platform": "LMS",
                    "contextActivities": {"parent": [{"id": "http://example.com/programme"}]}},
        "timestamp": "2026-01-02T03:04:05.678Z",
    }
    for key, value in overrides.items():
        if value is None:
            statement.pop(key, None)
        else:
            statement[key] = value
    return statement


def set_path(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the dotted `path` set (or removed when value is ...)."""
    out = copy.deepcopy(document)
    target: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    last = parts[-1]
    if value is ...:
        target.pop(last, None)
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return out


def voiding(target_id: str, **overrides: Any) -> dict[str, Any]:
    """A statement voiding `target_id`."""
    return make_statement(verb={"id": VERB_VOIDED},
                          object={"objectType": "StatementRef", "id": target_id},
                          result=None, context=None, **overrides)
