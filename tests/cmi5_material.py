"""cmi5-defined statements for the door-check tests (cmi5 spec §9)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.factories import make_statement

ADL = "http://adlnet.gov/expapi/verbs/"
CMI5_VERBS = "https://w3id.org/xapi/adl/verbs/"
CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
AU = "https://example.com/au/fire-safety"

_RESULTS: dict[str, dict[str, Any]] = {
    "completed": {"completion": True, "duration": "PT10M"},
    "passed": {"success": True, "score": {"scaled": 0.9}, "duration": "PT10M"},
    "failed": {"success": False, "score": {"scaled": 0.2}, "duration": "PT10M"},
    "terminated": {"duration": "PT12M"},
}


def verb_iri(verb: str) -> str:
    """The IRI of a cmi5 defined verb."""
    return (CMI5_VERBS if verb in ("abandoned", "waived", "satisfied") else ADL) + verb


def cmi5_statement(verb: str, *, registration: str | None = None, session: str | None = None,
                   mastery: float | None = None, **overrides: Any) -> dict[str, Any]:
    """A cmi5-defined statement that follows every rule checked (unless overridden)."""
    categories = [{"id": CATEGORY}]
    if verb in ("completed", "passed", "failed"):
        categories.append({"id": MOVEON})
    extensions: dict[str, Any] = {SESSION: session or str(uuid.uuid4())}
    if mastery is not None:
        extensions[MASTERY] = mastery
    statement = make_statement(
        verb={"id": verb_iri(verb), "display": {"en-US": verb}},
        object={"objectType": "Activity", "id": AU},
        context={"registration": registration or str(uuid.uuid4()),
                 "contextActivities": {"category": categories}, "extensions": extensions},
        result=copy.deepcopy(_RESULTS.get(verb)))
    if verb not in _RESULTS:
        statement.pop("result", None)
    for key, value in overrides.items():  # None removes a property
        if value is None:
            statement.pop(key, None)
        else:
            statement[key] = value
    return statement
