"""What erasing a person does to one statement (pure, no store)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from statements.erasure import DELETE, ERASED_AGENT, erasure_keys, plan_erasure
from statements.indexing import agent_key
from tests.factories import make_agent, make_statement

ALICE, BOB, CAROL = make_agent("alice"), make_agent("bob"), make_agent("carol")
KEYS = erasure_keys(agent_key(ALICE) or "")
ACCOUNT = {"objectType": "Agent", "account": {"homePage": "http://lms", "name": "a1"}}


def group(*members: dict[str, Any], **identity: Any) -> dict[str, Any]:
    return {"objectType": "Group", "member": list(members), **identity}


def sub(actor: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"objectType": "SubStatement", "actor": actor, "verb": {"id": "http://e.com/v"},
            "object": {"id": "http://e.com/a"}, **more}


def test_erasure_keys_add_the_sha1_of_an_mbox() -> None:
    sha1 = hashlib.sha1(b"mailto:alice@example.com").hexdigest()
    assert {"mbox:mailto:alice@example.com", f"mbox_sha1sum:{sha1}"} == KEYS
    assert erasure_keys("account:http://lms|a1") == {"account:http://lms|a1"}


@pytest.mark.parametrize("statement", [
    make_statement(actor=ALICE),
    make_statement(actor={"mbox": "mailto:alice@EXAMPLE.com"}),  # domains fold (Data §2.3.1)
    make_statement(actor={"mbox_sha1sum": hashlib.sha1(b"mailto:alice@example.com").hexdigest()}),
    make_statement(actor=group(ALICE)),  # an anonymous group of hers alone
    make_statement(actor=group(BOB, mbox="mailto:alice@example.com")),  # her identifier
    make_statement(actor=BOB, object=sub(ALICE), context=None),
], ids=["agent", "mbox-case", "sha1", "lone-group", "identified-group", "substatement-actor"])
def test_statements_of_theirs_are_deleted(statement: dict[str, Any]) -> None:
    assert plan_erasure(statement, KEYS) == DELETE


def test_someone_elses_statement_without_them_is_untouched() -> None:
    assert plan_erasure(make_statement(actor=BOB, context={"instructor": CAROL}), KEYS) is None
    assert plan_erasure(make_statement(actor=ACCOUNT), KEYS) is None


def test_team_instructor_and_group_members_lose_only_them() -> None:
    statement = make_statement(actor=group(BOB, ALICE), context={
        "team": group(ALICE, CAROL), "instructor": ALICE, "registration": "x"})
    original = copy.deepcopy(statement)
    plan = plan_erasure(statement, KEYS)
    assert isinstance(plan, dict)
    assert plan["actor"]["member"] == [BOB]
    assert plan["context"] == {"team": group(CAROL), "registration": "x"}
    assert plan["id"] == statement["id"] and statement == original  # a copy, same id


def test_a_team_of_hers_alone_goes_an_identified_one_stays_empty() -> None:
    anonymous = plan_erasure(make_statement(actor=BOB, context={"team": group(ALICE)}), KEYS)
    assert isinstance(anonymous, dict) and "team" not in anonymous["context"]
    named = group(ALICE, account={"homePage": "http://lms", "name": "team-7"})
    kept = plan_erasure(make_statement(actor=BOB, context={"team": named}), KEYS)
    assert isinstance(kept, dict)
    assert kept["context"]["team"] == {"objectType": "Group", "account": named["account"]}


def test_an_object_agent_becomes_the_placeholder() -> None:
    plan = plan_erasure(make_statement(actor=BOB, object=ALICE, context=None), KEYS)
    assert isinstance(plan, dict) and plan["object"] == ERASED_AGENT
    in_group = plan_erasure(make_statement(actor=BOB, object=group(ALICE, CAROL),
                                           context=None), KEYS)
    assert isinstance(in_group, dict) and in_group["object"] == group(CAROL)


def test_inside_a_substatement_they_are_removed_too() -> None:
    statement = make_statement(actor=BOB, context=None, object=sub(
        CAROL, context={"instructor": ALICE}))
    plan = plan_erasure(statement, KEYS)
    assert isinstance(plan, dict) and "instructor" not in plan["object"]["context"]
    with_object = plan_erasure(make_statement(actor=BOB, context=None,
                                              object=sub(CAROL, object=ALICE)), KEYS)
    assert isinstance(with_object, dict)
    assert with_object["object"]["object"] == ERASED_AGENT


def test_xapi_2_context_agents_and_groups() -> None:
    statement = make_statement(actor=BOB, context={
        "contextAgents": [{"objectType": "contextAgent", "agent": ALICE},
                          {"objectType": "contextAgent", "agent": CAROL}],
        "contextGroups": [{"objectType": "contextGroup", "group": group(ALICE)},
                          {"objectType": "contextGroup", "group": group(ALICE, CAROL)}]})
    plan = plan_erasure(statement, KEYS)
    assert isinstance(plan, dict)
    assert plan["context"]["contextAgents"] == [{"objectType": "contextAgent", "agent": CAROL}]
    assert plan["context"]["contextGroups"] == [{"objectType": "contextGroup",
                                                 "group": group(CAROL)}]
    only_her = plan_erasure(make_statement(actor=BOB, context={
        "contextAgents": [{"objectType": "contextAgent", "agent": ALICE}]}), KEYS)
    assert isinstance(only_her, dict) and only_her["context"] == {}


def test_the_authority_is_left_alone_unless_it_is_the_person() -> None:
    statement = make_statement(actor=BOB, authority=CAROL)
    assert plan_erasure(statement, KEYS) is None
    theirs = plan_erasure(make_statement(actor=BOB, authority=ALICE), KEYS)
    assert isinstance(theirs, dict) and theirs["authority"] == ERASED_AGENT
