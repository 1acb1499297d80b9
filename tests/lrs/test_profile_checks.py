"""The door's profile check: findings of a batch named by statement path, template and rule,
and counted per profile and template."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import generate_latest

from lrs.credentials import CheckMode, Credential, Retention
from lrs.door import Door
from lrs.metrics import Metrics
from lrs.profile_checks import ProfilesCheck
from statements.errors import InvalidRequest
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


def credential(mode: CheckMode) -> Credential:
    return Credential(key="k", name="lms", secret_hash="", scopes=frozenset(),
                      retention=Retention.FULL, authority={}, created=datetime.now(UTC),
                      profiles=mode)


async def test_profile_check_refusal_names_statement_template_and_rule() -> None:
    door = Door()
    door.add(ProfilesCheck((parse_profile(load("cmi5")), parse_profile(load("video")))))
    good = video_statement(PAUSED_VERB, result=PAUSED, length=60.0)
    bad = cmi5_statement("completed", in_moveon=True, result={"completion": True})
    try:
        await door.inspect([good, bad], ["a", "b"], credential=credential(CheckMode.REJECT),
                           store=None, single=False)  # type: ignore[arg-type]  # stateless
    except InvalidRequest as refused:
        (problem,) = refused.problems
    else:
        raise AssertionError("a reject-mode credential's broken rule must be refused")
    assert problem.path == "$[1].result.duration"
    assert problem.message.startswith("must be included (profiles rule rules[3] "
                                      "($.result.duration), https://w3id.org/xapi/cmi5#completed")
    flagged = await door.inspect([good, bad], ["a", "b"], credential=credential(CheckMode.FLAG),
                                 store=None, single=False)  # type: ignore[arg-type]
    assert list(flagged.marks) == ["b"]
    off = await door.inspect([bad], ["b"], credential=credential(CheckMode.OFF),
                             store=None, single=True)  # type: ignore[arg-type]
    assert not off.marks


async def test_profile_check_counted_per_profile_and_template() -> None:
    metrics = Metrics(statements_route="/xapi/statements")
    door = Door()
    door.add(ProfilesCheck((parse_profile(load("video")),), count=metrics.count_profile_outcome))
    good = video_statement(PAUSED_VERB, result=PAUSED, length=60.0)
    no_length = video_statement(PAUSED_VERB, result=PAUSED)
    cmi5 = cmi5_statement("completed", in_moveon=True, result=COMPLETED)
    await door.inspect([good, no_length, cmi5], ["a", "b", "c"],
                       credential=credential(CheckMode.FLAG), store=None,  # type: ignore[arg-type]
                       single=False)
    text = generate_latest(metrics.registry).decode()
    paused = 'profile="https://w3id.org/xapi/video",template="https://w3id.org/xapi/video/templates#paused"'
    assert f"lrs_profile_template_matches_total{{{paused}}} 2.0" in text
    assert f'lrs_profile_template_findings_total{{action="flagged",{paused}}} 1.0' in text
    assert VIDEO_EXT not in text  # labels are profiles and templates, never values
