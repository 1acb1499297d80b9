"""Statement validation rules (checklist §2) as a table of (path, value, accepted?)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from statements.errors import InvalidRequest
from statements.parsing import parse_statements
from statements.versions import XapiVersion
from tests.factories import make_agent, make_statement, set_path

REMOVE = ...
OK, BAD = True, False
SUB = {"objectType": "SubStatement", "actor": make_agent("sub"),
       "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/a"}}

# (path, value, accepted, spec reference). REMOVE deletes the property.
RULES: list[tuple[str, Any, bool, str]] = [
    # 2.1 general formatting
    ("verb", None, BAD, "D2.2.s4.b1.b1 null"),
    ("context", None, BAD, "D2.2.s4.b1.b1 null"),
    ("result.success", "false", BAD, "D2.2.s4.b1.b2 string for boolean"),
    ("result.score.raw", "95", BAD, "D2.2.s4.b1.b3 string for number"),
    ("Actor", make_agent(), BAD, "D2.2.s4.b1.b5 keys are case-sensitive"),
    ("dummy", "x", BAD, "D2.2.s4.b1.b7 unknown property"),
    ("actor", REMOVE, BAD, "D2.2.s2.b3 actor required"),
    ("verb", REMOVE, BAD, "D2.2.s2.b3 verb required"),
    ("object", REMOVE, BAD, "D2.2.s2.b3 object required"),
    # 2.2 top level
    ("id", "not-a-uuid", BAD, "D2.4.1 id is a UUID"),
    ("id", "3fa85f64-5717-4562-b3fc-2c963f66afa6a", BAD, "D2.4.1 too many digits"),
    ("id", "3fa85f64-5717-4562-b3fc-2c963f66afzz", BAD, "D2.4.1 non-hex"),
    ("id", 42, BAD, "D2.4.1 number"),
    ("id", REMOVE, OK, "D2.4.1.s2.b1 LRS assigns it"),
    ("attachments", {}, BAD, "D2.4.11 an array"),
    ("stored", "2026-01-01T00:00:00Z", OK, "D2.4.8.s3.b2 accepted then overwritten"),
    # 2.3 actor
    ("actor.objectType", "agent", BAD, "D2.4.2.1 exact case"),
    ("actor.openid", "http://openid.example.com/a", BAD, "D2.4.2.1.s2.b2 two IFIs"),
    ("actor.mbox", REMOVE, BAD, "D2.4.2.1.s2.b1 zero IFIs"),
    ("actor.mbox", "alice@example.com", BAD, "D2.4.2.3 mbox is a mailto IRI"),
    ("actor.mbox", "", BAD, "D2.2.s4.b1.b4 empty formatted string"),
    ("actor.name", 7, BAD, "D2.4.2.1 name is a string"),
    ("actor", {"mbox_sha1sum": "a" * 40}, OK, "mbox_sha1sum"),
    ("actor", {"mbox_sha1sum": "xyz"}, BAD, "mbox_sha1sum is 40 hex"),
    ("actor", {"openid": "openid.example.com"}, BAD, "openid is an absolute URI"),
    ("actor", {"account": {"homePage": "http://e.com", "name": "a"}}, OK, "account"),
    ("actor", {"account": {"homePage": "e.com", "name": "a"}}, BAD, "account homePage IRL"),
    ("actor", {"account": {"name": "a"}}, BAD, "account homePage required"),
    ("actor", {"account": {"homePage": "http://e.com", "name": "a", "x": 1}}, BAD,
     "account has no other keys"),
    ("actor.member", [make_agent("bob")], BAD, "member only on Groups"),
    ("actor", {"objectType": "Group", "member": [make_agent("b")]}, OK, "anonymous Group"),
    ("actor", {"objectType": "Group", "name": "g"}, BAD, "D2.4.2.2.s4.b1 anonymous needs members"),
    ("actor", {"member": [make_agent("b")], "name": "g"}, BAD, "Group needs objectType"),
    ("actor", {"objectType": "Group", "mbox": "mailto:g@e.com"}, OK, "identified Group"),
    ("actor", {"objectType": "Group", "member": [{"objectType": "Group", "member": [
        make_agent("c")]}]}, BAD, "D2.4.2.2.s4.b2 no Group in member"),
    # 2.4 verb
    ("verb.id", "completed", BAD, "D2.4.3 verb id is an IRI"),
    ("verb.display", {"en-US": 1}, BAD, "D2.4.3 display values are strings"),
    ("verb.display", {"not a tag": "x"}, BAD, "D4.2 language tag"),
    ("verb.display", {"zh-z-aaa-z-bbb-c-ccc": "x"}, BAD, "RFC 5646 repeated singleton"),
    ("verb.display", {"sr-Latn-RS": "x", "zh-Hant": "y", "cmn": "z", "ase": "q"}, OK, "tags"),
    ("verb.display", {}, OK, "empty language map"),
    # 2.5 object
    ("object.objectType", "activity", BAD, "D2.4.4 exact case"),
    ("object.id", "example.com/a", BAD, "activity id is an IRI"),
    ("object.definition", {}, OK, "empty definition"),
    ("object.definition.interactionType", "choiCe", BAD, "D2.4.4.1.s13.b1 exact value"),
    ("object.definition.correctResponsesPattern", ["a"], BAD, "D2.4.4.1.s8 needs interactionType"),
    ("object.definition.moreInfo", "not-an-irl", BAD, "moreInfo IRL"),
    ("object.definition.extensions", {}, OK, "empty extensions"),
    ("object.definition.extensions", {"no-scheme": 1}, BAD, "D4.1 extension keys are IRIs"),
    ("object", {"objectType": "Agent", "mbox": "mailto:x@e.com"}, OK, "Agent object"),
    ("object", {"mbox": "mailto:x@e.com"}, BAD, "D2.4.4.2 Agent object needs objectType"),
    ("object", {"objectType": "StatementRef", "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
     OK, "StatementRef"),
    ("object", {"objectType": "StatementRef"}, BAD, "StatementRef needs an id"),
    ("object", SUB, OK, "SubStatement"),
    ("object", {**SUB, "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, BAD, "no id in SubStatement"),
    ("object", {**SUB, "version": "1.0.0"}, BAD, "no version in SubStatement"),
    ("object", {**SUB, "object": SUB}, BAD, "D2.4.4.3.s8.b4 no nested SubStatement"),
    # 2.6 result
    ("result.score.scaled", 1.01, BAD, "D2.4.5.1 scaled <= 1"),
    ("result.score.scaled", -1.0, OK, "scaled -1"),
    ("result.score", {"min": 5, "max": 1}, BAD, "min < max"),
    ("result.score", {"min": 0, "max": 10, "raw": 11}, BAD, "raw within range"),
    ("result.duration", "PT1H30M", OK, "duration"),
    ("result.duration", "PT16559.14S", OK, "fractional seconds"),
    ("result.duration", "P4W", OK, "weeks"),
    ("result.duration", "P4W1D", BAD, "D4.6 weeks alone"),
    ("result.duration", "P0003-01-29T00:00:00", BAD, "D4.6 alternative format"),
    ("result.extensions", {"http://e.com/x": None}, OK, "D4.1.s3.b2 null extension value"),
    # 2.7 context
    ("context.registration", "nope", BAD, "registration UUID"),
    ("context.team", make_agent("t"), BAD, "team is a Group"),
    ("context.language", "not a tag", BAD, "language tag"),
    ("context.contextActivities", {"parent": {"id": "http://e.com/p"}}, OK, "one activity"),
    ("context.contextActivities", {"sibling": [{"id": "http://e.com/p"}]}, BAD, "known keys"),
    ("context.statement", {"objectType": "StatementRef",
                           "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, OK, "statement ref"),
    # 2.8 LRS-set properties
    ("timestamp", "2026-01-01T00:00:00-00:00", BAD, "D4.5 negative zero offset"),
    ("timestamp", "2026-01-01T00:00:00-0000", BAD, "negative zero offset"),
    ("timestamp", "2026-01-01T00:00:00+00:00", OK, "positive zero offset"),
    ("timestamp", "2026-01-01T05:00:00-05:00", OK, "offset"),
    ("timestamp", "01/011/2015", BAD, "not ISO 8601"),
    ("timestamp", "2026-02-30T00:00:00Z", BAD, "not a date"),
    ("version", "1.0.9", OK, "D2.4.10 1.0.x"),
    ("version", "1.1.0", BAD, "D2.4.10 1.1.0"),
    ("version", "0.9.9", BAD, "D2.4.10 0.9.9"),
    ("authority", {"objectType": "Group", "mbox": "mailto:g@e.com"}, BAD, "D2.4.9 identified"),
    ("authority", {"objectType": "Group", "member": [make_agent("a"), make_agent("b"),
                                                      make_agent("c")]}, BAD, "3 members"),
    ("authority", {"objectType": "Group", "member": [make_agent("a"), make_agent("b")]}, OK,
     "OAuth-style authority"),
    # 2.9 attachments metadata
    ("attachments", [{"usageType": "http://e.com/u", "display": {"en": "a"},
                      "contentType": "text/plain", "length": 1.5, "sha2": "ab",
                      "fileUrl": "http://e.com/f"}], BAD, "length is an integer"),
]


@pytest.mark.parametrize(("path", "value", "accepted", "rule"), RULES,
                         ids=[f"{rule}:{path}" for path, _, _, rule in RULES])
def test_parse_statements_rule(path: str, value: Any, accepted: bool, rule: str) -> None:
    statement = set_path(make_statement(), path, value)
    if path.startswith("object") and value is not REMOVE and \
            isinstance(statement["object"], dict) and \
            statement["object"].get("objectType") not in (None, "Activity"):
        statement["context"].pop("platform", None)  # platform needs an Activity object
    body = orjson.dumps(statement)
    if accepted:
        parse_statements(body, XapiVersion.V2)
    else:
        with pytest.raises(InvalidRequest) as caught:
            parse_statements(body, XapiVersion.V2)
        assert caught.value.problems, "a rejection names where the problem is"


def test_parse_statements_names_the_json_path_of_each_problem() -> None:
    batch = [make_statement(), set_path(make_statement(), "actor.mbox", "nope")]
    with pytest.raises(InvalidRequest) as caught:
        parse_statements(orjson.dumps(batch), XapiVersion.V2)
    assert [p.path for p in caught.value.problems] == ["$[1].actor.mbox"]


@pytest.mark.parametrize("body", [b"", b"42", b'"x"', b"{", b"[1,", b"null"])
def test_parse_statements_rejects_what_is_not_a_statement_body(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_statements(body, XapiVersion.V2)


def test_parse_statements_platform_needs_an_activity_object() -> None:
    statement = make_statement(object={"objectType": "Agent", "mbox": "mailto:x@e.com"})
    with pytest.raises(InvalidRequest, match="statement"):
        parse_statements(orjson.dumps(statement), XapiVersion.V2)


def test_parse_statements_voided_verb_needs_a_statement_ref() -> None:
    statement = make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"})
    with pytest.raises(InvalidRequest):
        parse_statements(orjson.dumps(statement), XapiVersion.V2)


CONTEXT_AGENTS = {"contextAgents": [{"objectType": "contextAgent", "agent": make_agent("i"),
                                     "relevantTypes": ["http://e.com/instructor"]}]}


def test_parse_statements_context_agents_only_in_2_0() -> None:
    statement = make_statement(context=CONTEXT_AGENTS)
    parse_statements(orjson.dumps(statement), XapiVersion.V2)
    with pytest.raises(InvalidRequest):
        parse_statements(orjson.dumps(statement), XapiVersion.V1)


@pytest.mark.parametrize("bad", [
    {"contextAgents": [{"objectType": "contextagent", "agent": make_agent("i")}]},
    {"contextAgents": [{"objectType": "contextAgent", "agent": make_agent("i"),
                        "relevantTypes": []}]},
    {"contextGroups": [{"objectType": "contextGroup", "group": make_agent("i")}]},
])
def test_parse_statements_context_agents_rules(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_statements(orjson.dumps(make_statement(context=bad)), XapiVersion.V2)


def test_parse_statements_keeps_numbers_as_sent() -> None:
    statement = make_statement(result={"score": {"raw": 5, "min": 0, "max": 10.5}})
    parsed = parse_statements(orjson.dumps(statement), XapiVersion.V2).statements[0]
    assert orjson.dumps(parsed["result"]) == b'{"score":{"raw":5,"min":0,"max":10.5}}'
