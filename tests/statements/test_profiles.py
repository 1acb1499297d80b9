"""Statement templates of real xAPI Profiles (cmi5, video): matching, each kind of rule, schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from statements.profiles import Finding, Profile, ProfileError, check, parse_profile
from tests.factories import make_statement

DATA = Path(__file__).parent.parent / "data" / "profiles"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
CMI5_EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
VIDEO_EXT = "https://w3id.org/xapi/video/extensions/"
VIDEO_TYPE = "https://w3id.org/xapi/video/activity-type/video"
ADL = "http://adlnet.gov/expapi/verbs/"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / f"{name}.jsonld").read_text())
    return document


@pytest.fixture(scope="module")
def cmi5() -> Profile:
    return parse_profile(load("cmi5"))


@pytest.fixture(scope="module")
def video() -> Profile:
    return parse_profile(load("video"))


def cmi5_statement(verb: str, *, in_moveon: bool = False, result: dict[str, Any] | None = None,
                   **extensions: Any) -> dict[str, Any]:
    """A cmi5-defined statement as an AU sends it (cmi5 §9.6): category, grouping, session."""
    category = [{"id": CMI5_CATEGORY}] + ([{"id": MOVEON}] if in_moveon else [])
    statement = make_statement(
        verb={"id": ADL + verb},
        context={"registration": "0f4a5b2c-2f1e-4c3b-9a8d-7e6f5a4b3c2d",
                 "contextActivities": {"category": category,
                                       "grouping": [{"id": "https://example.com/au/1"}]},
                 "extensions": {CMI5_EXT + "sessionid": "session-1",
                                **{CMI5_EXT + k: v for k, v in extensions.items()}}},
        result=result)
    return statement


def video_statement(verb: str, *, result: dict[str, Any], **extensions: Any
                    ) -> dict[str, Any]:
    return make_statement(
        verb={"id": verb},
        object={"id": "https://example.com/videos/safety", "definition": {"type": VIDEO_TYPE}},
        context={"contextActivities": {"category": [
                     {"id": "https://w3id.org/xapi/video/v1.0.3"}]},
                 "extensions": {VIDEO_EXT + k: v for k, v in extensions.items()}},
        result=result)


COMPLETED = {"completion": True, "duration": "PT10M"}
LAUNCHED = {"launchmode": "Normal", "launchurl": "https://example.com/au/1/index.html",
            "moveon": "CompletedOrPassed", "launchparameters": "{}"}
PAUSED = {"extensions": {VIDEO_EXT + "time": 12.5, VIDEO_EXT + "progress": 0.2,
                         VIDEO_EXT + "played-segments": "0[.]12.5"}}


def only(findings: tuple[Finding, ...]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_profile_published_files_read(cmi5: Profile, video: Profile) -> None:
    assert {t.id.rsplit("#", 1)[1] for t in cmi5.templates} >= {
        "generalrestrictions", "launched", "completed", "passed", "failed", "satisfied"}
    assert len(video.templates) == 9
    assert CMI5_CATEGORY in cmi5.names and "https://w3id.org/xapi/video/v1.0.3" in video.names


@pytest.mark.parametrize(("verb", "kwargs"), [
    ("launched", {"result": None, **LAUNCHED}),
    ("initialized", {}),
    ("completed", {"in_moveon": True, "result": COMPLETED}),
    ("passed", {"in_moveon": True, "result": {"success": True, "duration": "PT1M",
                                           "score": {"scaled": 0.8}}}),
    ("failed", {"in_moveon": True, "result": {"success": False, "duration": "PT1M"}}),
    ("terminated", {"result": {"duration": "PT20M"}}),
])
def test_profile_cmi5_statement_that_follows_its_template_has_no_findings(
        cmi5: Profile, verb: str, kwargs: dict[str, Any]) -> None:
    outcome = check(cmi5_statement(verb, **kwargs), [cmi5])
    assert outcome.findings == ()
    # The general restrictions have no determining property: they match every cmi5 statement.
    assert {t for _, t in outcome.matched} == {
        "https://w3id.org/xapi/cmi5#generalrestrictions", f"https://w3id.org/xapi/cmi5#{verb}"}


def test_profile_included_rule_broken_names_template_rule_and_path(cmi5: Profile) -> None:
    finding = only(check(cmi5_statement("completed", in_moveon=True,
                                        result={"completion": True}), [cmi5]).findings)
    assert finding == Finding("https://w3id.org/xapi/cmi5", "https://w3id.org/xapi/cmi5#completed",
                              "rules[3] ($.result.duration)", "$.result.duration",
                              "must be included")


def test_profile_excluded_rule_broken_points_at_the_value(cmi5: Profile) -> None:
    finding = only(check(cmi5_statement("completed", in_moveon=True, result={
        **COMPLETED, "success": True}), [cmi5]).findings)
    assert (finding.rule, finding.path, finding.message) == (
        "rules[1] ($.result.success)", "$['result']['success']", "must be excluded")


def test_profile_any_rule_broken_when_no_value_is_allowed(cmi5: Profile) -> None:
    finding = only(check(cmi5_statement("completed", result=COMPLETED), [cmi5]).findings)
    assert finding.rule == "rules[4] ($.context.contextActivities.category[*].id)"
    assert finding.path == "$['context']['contextActivities']['category'][0]['id']"
    assert MOVEON in finding.message


def test_profile_all_rule_broken_by_a_value_outside_the_list(cmi5: Profile) -> None:
    statement = cmi5_statement("launched", **{**LAUNCHED, "launchmode": "Sideways"})
    findings = check(statement, [cmi5]).findings
    rule = next(f for f in findings if f.template.endswith("#launched"))
    assert rule.path == f"$['context']['extensions']['{CMI5_EXT}launchmode']"
    assert rule.message.startswith('"Sideways" is not one of "Normal"')
    # The same value breaks the extension's inlineSchema (an enum) as well.
    schema = next(f for f in findings if f.rule.startswith("schema of"))
    assert schema.path == f"$.context.extensions['{CMI5_EXT}launchmode']"


def test_profile_all_rule_compares_json_values_not_python_ones(cmi5: Profile) -> None:
    # `all: [true]`: the number 1 is not true in JSON, though 1 == True in Python.
    finding = only(check(cmi5_statement("completed", in_moveon=True, result={
        "completion": 1, "duration": "PT1M"}), [cmi5]).findings)
    assert finding.path == "$['result']['completion']"


def test_profile_none_rule_broken_by_a_forbidden_value(cmi5: Profile) -> None:
    finding = only(check(cmi5_statement("initialized", in_moveon=True), [cmi5]).findings)
    assert finding.template == "https://w3id.org/xapi/cmi5#initialized"
    assert finding.path == "$['context']['contextActivities']['category'][1]['id']"
    assert finding.message == f'must not be "{MOVEON}"'


def test_profile_general_restrictions_apply_to_every_cmi5_statement(cmi5: Profile) -> None:
    statement = cmi5_statement("initialized")
    del statement["context"]["extensions"][CMI5_EXT + "sessionid"]
    finding = only(check(statement, [cmi5]).findings)
    assert finding.template == "https://w3id.org/xapi/cmi5#generalrestrictions"
    assert finding.path == f"$.context.extensions['{CMI5_EXT}sessionid']"


def test_profile_recommended_rule_missing_is_no_finding(video: Profile) -> None:
    statement = video_statement("https://w3id.org/xapi/video/verbs/played",
                                result={"extensions": {VIDEO_EXT + "time": 0}})
    outcome = check(statement, [video])
    assert outcome.matched == (("https://w3id.org/xapi/video",
                                "https://w3id.org/xapi/video/templates#played"),)
    assert outcome.findings == ()


def test_profile_video_paused_missing_length_is_named(video: Profile) -> None:
    finding = only(check(video_statement("https://w3id.org/xapi/video/verbs/paused",
                                         result=PAUSED), [video]).findings)
    assert finding.template == "https://w3id.org/xapi/video/templates#paused"
    assert finding.path == f"$.context.extensions['{VIDEO_EXT}length']"


def test_profile_extension_value_checked_against_inline_schema(video: Profile) -> None:
    statement = video_statement("https://w3id.org/xapi/video/verbs/paused", result=PAUSED,
                                length="ten minutes", **{"session-id": "not-a-uuid"})
    findings = check(statement, [video]).findings
    assert {(f.rule, f.path) for f in findings} == {
        (f"schema of {VIDEO_EXT}length", f"$.context.extensions['{VIDEO_EXT}length']"),
        (f"schema of {VIDEO_EXT}session-id",
         f"$.context.extensions['{VIDEO_EXT}session-id']")}
    assert any("is not of type 'number'" in f.message for f in findings)


def test_profile_object_activity_type_is_determining(video: Profile) -> None:
    statement = video_statement("https://w3id.org/xapi/video/verbs/paused", result={})
    statement["object"]["definition"]["type"] = "http://adlnet.gov/expapi/activities/course"
    assert check(statement, [video]).matched == ()


def test_profile_statement_not_naming_the_profile_is_not_checked(cmi5: Profile) -> None:
    statement = cmi5_statement("completed", result={"completion": True})
    statement["context"]["contextActivities"]["category"] = [{"id": MOVEON}]
    assert check(statement, [cmi5]) == check(statement, [])
    # Part Three alone (no category needed): the same statement matches and breaks rules.
    assert check(statement, [cmi5], require_category=False).findings


def test_profile_selector_and_context_types_from_a_derived_template() -> None:
    document = load("video")
    template = copy.deepcopy(document["templates"][1])  # played
    template["id"] = "https://example.com/templates#played-in-course"
    template["contextParentActivityType"] = ["http://adlnet.gov/expapi/activities/course"]
    template["rules"] = [{"location": "$.context.contextActivities.parent[*]",
                          "selector": "$.definition.name.en", "presence": "included"}]
    document["templates"] = [template]
    profile = parse_profile(document)
    parent = {"id": "https://example.com/course",
              "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}
    statement = video_statement("https://w3id.org/xapi/video/verbs/played", result={})
    statement["context"]["contextActivities"]["parent"] = [parent]
    finding = only(check(statement, [profile]).findings)  # the parent has no English name
    assert finding.path == "$['context']['contextActivities']['parent'][0]"
    parent["definition"]["name"] = {"en": "Safety"}
    assert check(statement, [profile]).findings == ()
    parent["definition"]["type"] = "http://adlnet.gov/expapi/activities/module"
    assert check(statement, [profile]).matched == ()


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "Concept"}, "not an xAPI Profile"),
    ({"templates": [{"id": "t", "rules": [{"location": "$.id"}]}]}, "none of presence"),
    ({"templates": [{"id": "t", "rules": [{"location": "$.id", "presence": "maybe"}]}]},
     "presence 'maybe'"),
    ({"templates": [{"id": "t", "rules": [{"location": "$[?(@.x", "presence": "included"}]}]},
     "is not a JSONPath"),
    ({"concepts": [{"id": "e", "type": "ContextExtension", "inlineSchema": "{no"}]},
     "inlineSchema is not JSON"),
])
def test_profile_unusable_document_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_profile({**load("video"), **change})


def _every_location() -> list[str]:
    return sorted({r["location"] for name in ("cmi5", "video")
                   for t in load(name)["templates"] for r in t.get("rules", ())}
                  | {"$.context.contextActivities.*[*].id", "$.result['it\\'s']",
                     "$.result.score | $.result.success", "$..id"})


@pytest.mark.parametrize("location", _every_location())
def test_profile_location_walk_agrees_with_the_jsonpath_library(location: str) -> None:
    import jsonpath

    from statements.profiles import _compile

    statements = [cmi5_statement("completed", in_moveon=True, result={
        **COMPLETED, "success": True, "score": {"scaled": 0.5}, "it's": 1}),
        cmi5_statement("launched", result=None, **LAUNCHED),
        video_statement("https://w3id.org/xapi/video/verbs/paused", result=PAUSED, length=1)]
    compiled = _compile(location, "test")
    for statement in statements:
        assert compiled.find(statement) == [
            (m.path, m.obj) for m in jsonpath.compile(location).finditer(statement)]
