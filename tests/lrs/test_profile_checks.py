"""The door's profile check: problems of a batch named by statement, template and rule."""

from __future__ import annotations

from prometheus_client import generate_latest

from lrs.metrics import Metrics
from lrs.profile_checks import ProfileChecks, problems
from statements.profiles import parse_profile
from tests.statements.test_profiles import (
    COMPLETED,
    PAUSED,
    VIDEO_EXT,
    cmi5_statement,
    load,
    video_statement,
)

PAUSED_VERB = "https://w3id.org/xapi/video/verbs/paused"


def test_profile_checks_problems_name_statement_template_and_rule() -> None:
    checks = ProfileChecks((parse_profile(load("cmi5")), parse_profile(load("video"))))
    good = video_statement(PAUSED_VERB, result=PAUSED, length=60.0)
    bad = cmi5_statement("completed", in_moveon=True, result={"completion": True})
    (problem,) = problems(checks.outcomes([good, bad]))
    assert problem.path == "$[1].result.duration"
    assert problem.message == (
        "must be included (profile https://w3id.org/xapi/cmi5, template "
        "https://w3id.org/xapi/cmi5#completed, rules[3] ($.result.duration))")
    (single,) = problems(checks.outcomes([bad]), single=True)
    assert single.path == "$.result.duration"


def test_profile_checks_counted_per_profile_and_template() -> None:
    metrics = Metrics(statements_route="/xapi/statements")
    checks = ProfileChecks((parse_profile(load("video")),),
                           count=metrics.count_profile_outcome)
    good = video_statement(PAUSED_VERB, result=PAUSED, length=60.0)
    no_length = video_statement(PAUSED_VERB, result=PAUSED)
    cmi5 = cmi5_statement("completed", in_moveon=True, result=COMPLETED)
    checks.counted(checks.outcomes([good, no_length, cmi5]), "flagged")
    text = generate_latest(metrics.registry).decode()
    paused = 'profile="https://w3id.org/xapi/video",template="https://w3id.org/xapi/video/templates#paused"'
    assert f"lrs_profile_template_matches_total{{{paused}}} 2.0" in text
    assert f'lrs_profile_template_findings_total{{action="flagged",{paused}}} 1.0' in text
    assert VIDEO_EXT not in text  # labels are profiles and templates, never values
