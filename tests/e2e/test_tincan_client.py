"""End to end: TinCanPython (the official Python client, PyPI `tincan`) against `lrs serve`,
with its own RemoteLRS calls, under xAPI 1.0.3 and 2.0.0 (docs/compatibility.md)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tincan import (
    Activity,
    ActivityProfileDocument,
    Agent,
    AgentProfileDocument,
    RemoteLRS,
    StateDocument,
    Statement,
    Verb,
)

from lrs.config import Settings
from tests.e2e.test_serve import run_lrs, serve

pytestmark = pytest.mark.e2e
COURSE = "http://example.com/courses/tincan"


@pytest.fixture
def endpoint(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server and the environment of its store."""
    env = {**os.environ, "LRS_STORE": settings.store_url(),
           "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path)}
    for base, _auth in serve(settings, tmp_path, retention="full"):
        yield base, env


def client(base: str, env: dict[str, str], version: str, document_puts: str) -> RemoteLRS:
    created = json.loads(run_lrs(
        "credentials", "create", "--name", f"tincan-{uuid.uuid4().hex[:8]}", "--scopes", "all",
        "--retention", "full", "--document-puts", document_puts, "--json", env=env))
    lrs = RemoteLRS(endpoint=f"{base}/xapi/", username=created["key"],
                    password=created["secret"])
    # TinCanPython knows the 1.0.x versions only; its requests are the same under 2.0.0,
    # which is what the header then says.
    lrs._version = version  # no public way to name a version it predates
    return lrs


def _documents(lrs: RemoteLRS) -> tuple[str, str]:
    """Save, read back and save again a State, an Activity Profile and an Agent Profile,
    as an application using TinCanPython does; returns what the last reads gave."""
    agent = Agent(name="Ada", mbox=f"mailto:ada-{uuid.uuid4().hex[:6]}@example.com")
    activity = Activity(id=COURSE)
    state = StateDocument(id="bookmark", activity=activity, agent=agent,
                          content='{"page": 1}', content_type="application/json")
    # save_state sends its PUT twice, without If-Match: the second onto an existing document
    # (2.0: a 409 when strict).
    assert lrs.save_state(state).success
    state.content = '{"page": 2}'
    saved = lrs.save_state(state)
    assert saved.success, saved.response.status
    read = lrs.retrieve_state(activity, agent, "bookmark")
    assert read.success

    for new, retrieve in (
            (ActivityProfileDocument(id="p1", activity=activity, content="one"),
             lambda: lrs.retrieve_activity_profile(activity, "p1")),
            (AgentProfileDocument(id="p1", agent=agent, content="one"),
             lambda: lrs.retrieve_agent_profile(agent, "p1"))):
        save = (lrs.save_activity_profile if isinstance(new, ActivityProfileDocument)
                else lrs.save_agent_profile)
        # A new profile, with no precondition (1.0.x: a 400 when strict).
        first = save(new)
        assert first.success, first.response.status
        current = retrieve()
        assert current.success and bytes(current.content.content) == b"one"
        # Onto the existing profile without a precondition: the 409 every LRS MUST answer
        # (Communication §3.1.s4.b13), lenient or not.
        current.content.content = "two"
        assert save(current.content).response.status == 409
        # TinCanPython looks for the ETag among getheaders()'s (name, value) pairs by name,
        # so never finds it: the application reads it from the response, and then the
        # client sends it as If-Match.
        current.content.etag = current.response.getheader("ETag")
        assert current.content.etag
        assert save(current.content).success
        assert bytes(retrieve().content.content) == b"two"
    return bytes(read.content.content).decode(), lrs.version


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_tincan_python_statements_state_and_profiles_with_a_lenient_credential(
        endpoint: tuple[str, dict[str, str]], version: str) -> None:
    base, env = endpoint
    lrs = client(base, env, version, "lenient")
    statement = Statement(actor=Agent(name="Ada", mbox="mailto:ada@example.com"),
                          verb=Verb(id="http://adlnet.gov/expapi/verbs/completed"),
                          object=Activity(id=COURSE))
    saved = lrs.save_statement(statement)
    assert saved.success, saved.response.status
    found = lrs.query_statements({"activity": Activity(id=COURSE)})
    assert found.success
    assert [str(s.id) for s in found.content.statements] == [str(saved.content.id)]
    assert lrs.retrieve_statement(saved.content.id).content.verb.id == statement.verb.id
    assert _documents(lrs) == ('{"page": 2}', version)


@pytest.mark.parametrize(("version", "refused"), [("1.0.3", 400), ("2.0.0", 409)])
def test_tincan_python_fails_with_a_strict_credential_as_the_suites_expect(
        endpoint: tuple[str, dict[str, str]], version: str, refused: int) -> None:
    base, env = endpoint
    lrs = client(base, env, version, "strict")
    agent = Agent(mbox="mailto:strict@example.com")
    activity = Activity(id=COURSE)
    profile = lrs.save_agent_profile(AgentProfileDocument(id="p", agent=agent, content="x"))
    # save_state sends its PUT twice (remote_lrs.py: `_send_request` then `return
    # _send_request`): the second one lands on the document the first one made.
    state = lrs.save_state(StateDocument(id="s", activity=activity, agent=agent, content="1"))
    if version == "1.0.3":  # Communication §3.1.s3: State needs no precondition in 1.0.3
        assert profile.response.status == refused and state.success
    else:  # 2.0: a new profile needs none; a State PUT onto one that exists gets the 409
        assert profile.success and state.response.status == refused
