"""The cmi5 door check (cmi5 spec §9, the statement rules an LRS can see; docs/cmi5.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from statements.checks import CheckContext, CheckMode, Finding
from statements.query import StatementQuery

CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY_SCORE = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
_ADL = "http://adlnet.gov/expapi/verbs/"
_CMI5 = "https://w3id.org/xapi/adl/verbs/"
VERBS = {f"{_ADL}{v}": v for v in (
    "launched", "initialized", "completed", "passed", "failed", "terminated")}
VERBS |= {f"{_CMI5}{v}": v for v in ("abandoned", "waived", "satisfied")}
_DURATION = {"terminated": "§9.3.8", "completed": "§9.3.3", "passed": "§9.3.4",
             "failed": "§9.3.5"}
_ONCE = {"completed": "§9.3.3", "passed": "§9.3.4"}  # per registration
_MOVEON_VERBS = frozenset(("completed", "passed", "failed"))  # §9.6.2
_LMS_ONLY = {"abandoned": "§9.3.6", "waived": "§9.3.7", "satisfied": "§9.3.9"}
_EXT = '$.context.extensions["' + SESSION_ID + '"]'


def _finding(rule: str, section: str, path: str, message: str, verb: str) -> Finding:
    return Finding("cmi5", rule, f"cmi5 {section}", path, message, about=verb)


def cmi5_verb(statement: dict[str, Any]) -> str | None:
    """The cmi5 verb of a cmi5-defined statement (its verb is one of cmi5's and it carries
    the cmi5 category, §9.6.2.1), else None."""
    verb = VERBS.get(statement["verb"]["id"])
    if verb is None:
        return None
    return verb if any(a.get("id") == CATEGORY for a in _categories(statement)) else None


def _categories(statement: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = statement.get("context", {}).get(
        "contextActivities", {}).get("category", [])
    return found


def statement_findings(statement: dict[str, Any], *, lms: bool) -> list[Finding]:
    """The stateless cmi5 rules broken by one cmi5-defined statement."""
    verb = cmi5_verb(statement)
    if verb is None:
        return []
    found: list[Finding] = []
    context = statement.get("context", {})
    extensions = context.get("extensions", {})
    result = statement.get("result", {})
    if "registration" not in context:  # §9.6.1
        found.append(_finding("registration", "§9.6.1", "$.context.registration",
                              "a cmi5-defined statement must carry a registration", verb))
    if SESSION_ID not in extensions:  # §9.6.3.1
        found.append(_finding("session-id", "§9.6.3.1", _EXT,
                              "a cmi5-defined statement must carry the session id", verb))
    if verb in _DURATION and "duration" not in result:  # §9.5.4
        found.append(_finding("duration", f"§9.5.4, {_DURATION[verb]}", "$.result.duration",
                              f"a cmi5 {verb} statement must carry result.duration", verb))
    scaled = result.get("score", {}).get("scaled")
    mastery = extensions.get(MASTERY_SCORE)
    # §9.3.4, §9.3.5, §9.5.1: passed at or above masteryScore, failed below it.
    if verb in ("passed", "failed") and isinstance(mastery, int | float) \
            and scaled is not None and (verb == "passed") != (scaled >= mastery):
        found.append(_finding(
            "mastery-score", "§9.3.4, §9.3.5, §9.5.1, §9.6.3.2", "$.result.score.scaled",
            f"a cmi5 {verb} statement's scaled score {scaled} must be "
            f"{'at least' if verb == 'passed' else 'below'} the masteryScore {mastery}",
            verb))
    # §9.3.3-§9.3.5, §9.5.2-§9.5.3: what completed, passed and failed say of the result.
    expected = {"completed": ("completion", True), "passed": ("success", True),
                "failed": ("success", False)}.get(verb)
    if expected is not None and result.get(expected[0]) is not expected[1]:
        name, value = expected
        found.append(_finding(
            name, f"{_DURATION[verb]}, §9.5.{2 if name == 'success' else 3}",
            f"$.result.{name}",
            f"a cmi5 {verb} statement must carry result.{name} {str(value).lower()}", verb))
    if verb in _MOVEON_VERBS and not any(
            a.get("id") == MOVEON for a in _categories(statement)):
        # §9.6.2: the moveOn category on completed, passed, failed (LMS satisfied too).
        found.append(_finding(
            "moveon-category", "§9.6.2", "$.context.contextActivities.category",
            f"a cmi5 {verb} statement must carry the moveOn category {MOVEON}", verb))
    if verb in _LMS_ONLY and not lms:  # only the LMS issues these
        found.append(_finding("lms-only", _LMS_ONLY[verb], "$.verb.id",
                              f"a cmi5 {verb} statement comes from the LMS's credential only",
                              verb))
    return found


class Cmi5Check:
    """DoorCheck: cmi5-defined statements against cmi5 §9 (credential field `cmi5`; the
    credential with `cmi5_lms` set is the LMS's)."""

    name = "cmi5"

    def mode_of(self, credential: Any) -> CheckMode:
        """The credential's `cmi5` mode."""
        mode: CheckMode = credential.cmi5
        return mode

    async def check(self, statements: Sequence[dict[str, Any]], context: CheckContext
                    ) -> list[list[Finding]]:
        """Stateless rules per statement, then the stateful ones against the store and the
        statements earlier in the batch."""
        lms = bool(context.credential.cmi5_lms)
        found = [statement_findings(s, lms=lms) for s in statements]
        seen: dict[str, list[dict[str, Any]]] = {}
        for index, statement in enumerate(statements):
            verb = cmi5_verb(statement)
            registration = statement.get("context", {}).get("registration")
            if verb is None or registration is None:
                continue
            if registration not in seen:
                seen[registration] = await _kept(context, registration)
            earlier = seen[registration]
            session = statement["context"].get("extensions", {}).get(SESSION_ID)
            if verb in _ONCE and any(cmi5_verb(e) == verb for e in earlier):
                # §9.3: zero or one completed / passed per registration.
                found[index].append(_finding(
                    f"{verb}-once", f"§9.3, {_ONCE[verb]}", "$.verb.id",
                    f"a cmi5 {verb} statement was already recorded for this registration",
                    verb))
            # Only the AU's statements: the LMS's (satisfied, abandoned, waived from the
            # credential marked `cmi5_lms`) may follow the session's end.
            if session is not None and not lms and verb not in _LMS_ONLY and any(
                    cmi5_verb(e) == "terminated"
                    and e["context"].get("extensions", {}).get(SESSION_ID) == session
                    for e in earlier):
                # §9.3.8: terminated is the last statement of a session.
                found[index].append(_finding(
                    "after-terminated", "§9.3.8", _EXT,
                    f"session {session} was terminated: nothing may follow it", verb))
            earlier.append(statement)
        return found


async def _kept(context: CheckContext, registration: str) -> list[dict[str, Any]]:
    """The cmi5-defined statements kept for a registration (its terminated, completed and
    passed ones are what the stateful rules read)."""
    out: list[dict[str, Any]] = []
    for verb in ("completed", "passed", "terminated"):
        page = await context.store.query(StatementQuery(
            verb=f"{_ADL}{verb}", registration=registration, limit=1000))
        out += [s for body in page.statements if cmi5_verb(s := orjson.loads(body))]
    return out
