"""The stateless cmi5 rules (statements.cmi5, cmi5 §9): each satisfied and each broken."""

from __future__ import annotations

from typing import Any

import pytest

from statements.cmi5 import cmi5_verb, statement_findings
from tests.cmi5_material import CATEGORY, MASTERY, SESSION, cmi5_statement


def rules(statement: dict[str, Any], *, lms: bool = False) -> list[str]:
    return [f.rule for f in statement_findings(statement, lms=lms)]


@pytest.mark.parametrize("verb", ["launched", "initialized", "completed", "passed", "failed",
                                  "terminated"])
def test_a_statement_following_the_rules_has_no_findings(verb: str) -> None:
    assert rules(cmi5_statement(verb)) == []


@pytest.mark.parametrize("verb", ["abandoned", "waived", "satisfied"])
def test_lms_verbs_pass_from_the_lms_and_are_flagged_from_anyone_else(verb: str) -> None:
    assert rules(cmi5_statement(verb), lms=True) == []
    found = statement_findings(cmi5_statement(verb), lms=False)
    assert [(f.rule, f.path) for f in found] == [("lms-only", "$.verb.id")]
    assert found[0].section.startswith("cmi5 §9.3.")


def test_only_cmi5_defined_statements_are_checked() -> None:
    broken = cmi5_statement("completed", result=None)  # no duration, no completion
    broken["context"]["contextActivities"]["category"] = []  # not cmi5-defined (§9.6.2.1)
    assert cmi5_verb(broken) is None and rules(broken) == []
    other = cmi5_statement("launched")
    other["verb"] = {"id": "http://example.com/verbs/opened"}  # not a cmi5 defined verb
    del other["context"]["registration"]
    assert rules(other) == []
    assert cmi5_verb(cmi5_statement("launched")) == "launched"
    assert CATEGORY in str(cmi5_statement("passed")["context"])


def test_registration_is_required() -> None:
    statement = cmi5_statement("initialized")
    del statement["context"]["registration"]
    [finding] = statement_findings(statement, lms=False)
    assert (finding.rule, finding.path, finding.section) == (
        "registration", "$.context.registration", "cmi5 §9.6.1")


def test_the_session_id_extension_is_required() -> None:
    statement = cmi5_statement("initialized")
    del statement["context"]["extensions"][SESSION]
    [finding] = statement_findings(statement, lms=False)
    assert finding.rule == "session-id" and finding.section == "cmi5 §9.6.3.1"
    assert finding.path == f'$.context.extensions["{SESSION}"]'


@pytest.mark.parametrize("verb", ["completed", "passed", "failed", "terminated"])
def test_duration_is_required_where_cmi5_asks_for_it(verb: str) -> None:
    statement = cmi5_statement(verb)
    del statement["result"]["duration"]
    found = statement_findings(statement, lms=False)
    assert [(f.rule, f.path) for f in found] == [("duration", "$.result.duration")]
    assert "§9.5.4" in found[0].section


def test_passed_at_or_above_the_mastery_score_failed_below_it() -> None:
    assert rules(cmi5_statement("passed", mastery=0.9)) == []  # 0.9 >= 0.9
    assert rules(cmi5_statement("failed", mastery=0.5)) == []  # 0.2 < 0.5
    assert rules(cmi5_statement("passed", mastery=0.95)) == ["mastery-score"]
    assert rules(cmi5_statement("failed", mastery=0.1)) == ["mastery-score"]
    [finding] = statement_findings(cmi5_statement("passed", mastery=0.95), lms=False)
    assert finding.path == "$.result.score.scaled" and "§9.3.4" in finding.section
    statement = cmi5_statement("passed")
    statement["context"]["extensions"][MASTERY] = 0.95
    assert rules(statement) == ["mastery-score"]


@pytest.mark.parametrize(("verb", "name", "wrong"), [
    ("completed", "completion", False), ("passed", "success", False),
    ("failed", "success", True)])
def test_completion_and_success_say_what_the_verb_says(verb: str, name: str,
                                                       wrong: bool) -> None:
    statement = cmi5_statement(verb)
    statement["result"][name] = wrong
    found = statement_findings(statement, lms=False)
    assert [(f.rule, f.path) for f in found] == [(name, f"$.result.{name}")]
    del statement["result"][name]  # absent is as wrong as the other value
    assert rules(statement) == [name]


@pytest.mark.parametrize("verb", ["completed", "passed", "failed"])
def test_the_moveon_category_is_required_on_completed_passed_failed(verb: str) -> None:
    statement = cmi5_statement(verb)
    statement["context"]["contextActivities"]["category"] = [{"id": CATEGORY}]
    found = statement_findings(statement, lms=False)
    assert [(f.rule, f.section) for f in found] == [("moveon-category", "cmi5 §9.6.2")]
    assert rules(cmi5_statement("initialized")) == []  # not asked of other verbs
