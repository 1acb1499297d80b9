"""Hypothesis strategies for xAPI data, written from the spec's rules (Data §2.4, §4):
valid statements, agents, documents and query strings, and near-valid mutations of them."""

from __future__ import annotations

import copy
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

LANGUAGES = ["en-US", "en", "fr-FR", "de", "zh-Hans-CN", "es-419", "und", "sr-Latn-RS"]
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_SAFE = string.ascii_letters + string.digits + "-._~"

uuids = st.uuids().map(str)
segments = st.text(_SAFE, min_size=1, max_size=12)
iris = st.one_of(
    st.builds(lambda host, path: f"http://{host}.example.com/{'/'.join(path)}",
              segments, st.lists(segments, max_size=3)),
    st.builds(lambda u: f"urn:uuid:{u}", uuids),
    st.builds(lambda p: f"https://example.org/xapi/{p}?q=1#frag", segments),
    st.builds(lambda p: f"http://example.com/ünïcödé/{p}", segments),
)
texts = st.text(max_size=40)  # any Unicode, NUL and astral planes included
language_maps = st.dictionaries(st.sampled_from(LANGUAGES), texts, max_size=3)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                         st.floats(allow_nan=False, allow_infinity=False), texts)
# Extension values are any JSON (Data §4.1), keys of nested objects included: "$", ".", "".
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
extensions = st.dictionaries(iris, json_values, min_size=1, max_size=3)
mboxes = st.builds(lambda local, host: f"mailto:{local}@{host}.example.com",
                   st.text(string.ascii_lowercase + string.digits + "._+-", min_size=1,
                           max_size=10).filter(lambda s: s[0] not in "."),
                   segments.map(str.lower).filter(lambda s: not s.startswith(".")))
accounts = st.fixed_dictionaries({"homePage": iris, "name": texts.filter(bool)})
ifis = st.one_of(
    st.fixed_dictionaries({"mbox": mboxes}),
    st.fixed_dictionaries({"mbox_sha1sum": st.text("0123456789abcdefABCDEF", min_size=40,
                                                   max_size=40)}),
    st.fixed_dictionaries({"openid": iris}),
    st.fixed_dictionaries({"account": accounts}),
)


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        out.update(part)
    return out


agents = st.builds(_merge, ifis, st.fixed_dictionaries({}, optional={
    "objectType": st.just("Agent"), "name": texts}))
identified_groups = st.builds(_merge, ifis, st.fixed_dictionaries(
    {"objectType": st.just("Group")},
    optional={"name": texts, "member": st.lists(agents, max_size=3)}))
anonymous_groups = st.fixed_dictionaries(
    {"objectType": st.just("Group"), "member": st.lists(agents, min_size=1, max_size=3)},
    optional={"name": texts})
groups = st.one_of(identified_groups, anonymous_groups)
actors = st.one_of(agents, agents, groups)
verbs = st.fixed_dictionaries({"id": iris.filter(lambda i: i != VOIDED)},
                              optional={"display": language_maps})
components = st.lists(st.fixed_dictionaries({"id": texts.filter(bool)},
                                            optional={"description": language_maps}),
                      max_size=3, unique_by=lambda c: c["id"])
plain_definitions = st.fixed_dictionaries({}, optional={
    "name": language_maps, "description": language_maps, "type": iris, "moreInfo": iris,
    "extensions": extensions})
interaction_definitions = st.builds(_merge, plain_definitions, st.fixed_dictionaries(
    {"interactionType": st.sampled_from(["true-false", "choice", "fill-in", "long-fill-in",
                                         "matching", "performance", "sequencing", "likert",
                                         "numeric", "other"])},
    optional={"correctResponsesPattern": st.lists(texts, max_size=3), "choices": components,
              "scale": components, "source": components, "target": components,
              "steps": components}))
activities = st.fixed_dictionaries({"id": iris}, optional={
    "objectType": st.just("Activity"),
    "definition": st.one_of(plain_definitions, interaction_definitions)})
statement_refs = st.fixed_dictionaries({"objectType": st.just("StatementRef"), "id": uuids})
# As an object, an Agent says so (Data §2.4.4.2: objectType is then required).
object_agents = agents.map(lambda agent: {**agent, "objectType": "Agent"})


@st.composite
def scores(draw: st.DrawFn) -> dict[str, Any]:
    """Data §2.4.5.1: scaled in [-1, 1], min < max, raw between them."""
    score: dict[str, Any] = {}
    if draw(st.booleans()):
        score["scaled"] = draw(st.floats(-1, 1))
    if draw(st.booleans()):
        low = draw(st.integers(-1000, 1000))
        high = low + draw(st.integers(1, 1000))
        score.update(min=low, max=high)
        if draw(st.booleans()):
            score["raw"] = draw(st.integers(low, high))
    elif draw(st.booleans()):
        score["raw"] = draw(st.floats(-1e6, 1e6))
    return score


durations = st.builds(lambda h, m, s: f"PT{h}H{m}M{s}S", st.integers(0, 99),
                      st.integers(0, 59), st.integers(0, 59))
results = st.fixed_dictionaries({}, optional={
    "score": scores(), "success": st.booleans(), "completion": st.booleans(),
    "response": texts, "duration": durations, "extensions": extensions})


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """ISO 8601 date-times with a Z or a numeric offset (Data §4.5)."""
    moment = draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1)))
    minutes = draw(st.sampled_from([0, 60, -300, 330, 840]))
    zone = timezone(timedelta(minutes=minutes)) if minutes else UTC
    text = moment.replace(tzinfo=zone).isoformat(timespec=draw(st.sampled_from(
        ["seconds", "milliseconds", "microseconds"])))
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


context_activity_lists = st.one_of(activities, st.lists(activities, min_size=1, max_size=2))


def contexts(object_is_activity: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Data §2.4.6; revision and platform only about an Activity."""
    optional: dict[str, st.SearchStrategy[Any]] = {
        "registration": uuids, "instructor": actors, "team": groups,
        "contextActivities": st.fixed_dictionaries({}, optional={
            k: context_activity_lists for k in ("parent", "grouping", "category", "other")}),
        "contextAgents": st.lists(st.fixed_dictionaries(
            {"objectType": st.just("contextAgent"), "agent": agents},
            optional={"relevantTypes": st.lists(iris, min_size=1, max_size=2)}), max_size=2),
        "language": st.sampled_from(LANGUAGES), "statement": statement_refs,
        "extensions": extensions}
    if object_is_activity:
        optional |= {"revision": texts, "platform": texts}
    return st.fixed_dictionaries({}, optional=optional)


@st.composite
def sub_statements(draw: st.DrawFn) -> dict[str, Any]:
    obj = draw(st.one_of(activities, object_agents, groups, statement_refs))
    sub = {"objectType": "SubStatement", "actor": draw(actors), "verb": draw(verbs),
           "object": obj}
    sub |= draw(st.fixed_dictionaries({}, optional={
        "result": results, "timestamp": timestamps(),
        "context": contexts(obj.get("objectType", "Activity") == "Activity")}))
    return sub


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    """A valid xAPI 2.0 statement (never a voiding one: that needs its target)."""
    obj = draw(st.one_of(activities, activities, object_agents, groups, statement_refs,
                         sub_statements()))
    statement = {"actor": draw(actors), "verb": draw(verbs), "object": obj}
    statement |= draw(st.fixed_dictionaries({}, optional={
        "id": uuids, "result": results, "timestamp": timestamps(),
        "context": contexts(obj.get("objectType", "Activity") == "Activity"),
        "version": st.sampled_from(["1.0.0", "1.0.3", "2.0.0"])}))
    return statement


# -- near-valid: one rule broken --------------------------------------------------------

def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "extensions":  # anything goes inside extensions
                out += _paths(inner, (*here, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out += _paths(inner, (*here, index))
    return out


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


# Each breaks a MUST of Data §2.2/§2.4 wherever it lands inside a statement's objects.
BREAKERS = {
    "unknown property": lambda obj: obj.__setitem__("unknownProperty", 1),
    "null value": lambda obj: obj.__setitem__(next(iter(obj)), None),
}


@st.composite
def broken_statements(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid statement with one rule broken: (what was broken, statement)."""
    statement = copy.deepcopy(draw(statements()))
    kind = draw(st.sampled_from(["unknown property", "null value", "wrong type",
                                 "no actor", "no verb", "no object", "bad id", "bad verb id",
                                 "bad timestamp", "two identifiers", "bad mbox",
                                 "scaled out of range", "bad language tag", "bad version"]))
    if kind in BREAKERS:
        objects = [p for p in _paths(statement)
                   if isinstance(_at(statement, p), dict) and _at(statement, p)
                   and not (p and p[-1] in ("display", "name", "description"))]
        BREAKERS[kind](_at(statement, draw(st.sampled_from(objects))))
    elif kind == "wrong type":
        statement["verb"]["id"] = draw(st.sampled_from([1, True, [], {}]))
    elif kind.startswith("no "):
        del statement[kind[3:]]
    elif kind == "bad id":
        statement["id"] = draw(st.sampled_from(["1", "not-a-uuid", "", "g" * 36]))
    elif kind == "bad verb id":
        statement["verb"]["id"] = draw(st.sampled_from(["completed", "", "://x", "a b"]))
    elif kind == "bad timestamp":
        statement["timestamp"] = draw(st.sampled_from(
            ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00-00:00", ""]))
    elif kind == "two identifiers":
        statement["actor"] = {"mbox": "mailto:a@example.com", "openid": "http://a.example.com"}
    elif kind == "bad mbox":
        statement["actor"] = {"mbox": draw(st.sampled_from(["a@example.com", "mailto:", ""]))}
    elif kind == "scaled out of range":
        statement["result"] = {"score": {"scaled": draw(st.sampled_from([1.5, -2, 100]))}}
    elif kind == "bad language tag":
        tag = draw(st.sampled_from(["", "en_US", "e", "en-", "-en"]))
        statement["verb"]["display"] = {tag: "x"}
    elif kind == "bad version":
        statement["version"] = draw(st.sampled_from(["3.0.0", "1.0.a", "1", ""]))
    return kind, statement


# -- query strings and documents --------------------------------------------------------

STATEMENT_PARAMS = ["statementId", "voidedStatementId", "agent", "verb", "activity",
                    "registration", "related_activities", "related_agents", "since", "until",
                    "limit", "format", "attachments", "ascending", "bogus"]
param_values = st.one_of(
    texts, uuids, iris, timestamps(), st.sampled_from(["true", "false", "0", "-1", "ids",
                                                       "exact", "canonical", "9" * 30]),
    agents.map(lambda a: json.dumps(a)), json_values.map(
        lambda v: json.dumps(v)))
statement_queries = st.lists(st.tuples(st.sampled_from(STATEMENT_PARAMS), param_values),
                             max_size=4)
document_params = st.fixed_dictionaries({}, optional={
    "activityId": st.one_of(iris, texts), "agent": st.one_of(
        agents.map(lambda a: json.dumps(a)), texts),
    "stateId": texts, "profileId": texts, "registration": st.one_of(uuids, texts),
    "since": st.one_of(timestamps(), texts)})
document_bodies = st.one_of(st.binary(max_size=200), json_values.map(
    lambda v: json.dumps(v).encode()))
content_types = st.sampled_from(["application/json", "application/octet-stream",
                                 "text/plain; charset=utf-8", "", "application/json; x=1",
                                 "multipart/mixed"])
