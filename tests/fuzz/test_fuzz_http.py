"""Property-based fuzzing of the xAPI resources over HTTP, on every engine: valid statements
are never rejected and come back as sent, near-valid ones are refused with a 400 that names
the place, and no generated request gets a 5xx (checked in tests/fuzz/conftest.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import Checked
from tests.fuzz.strategies import (
    broken_statements,
    content_types,
    document_bodies,
    document_params,
    statement_queries,
    statements,
)

# Properties the LRS fills in or may rewrite; the rest comes back exactly (Data §2.4).
_ADDED = {"id", "stored", "authority", "version", "timestamp"}
_CONTEXT_LISTS = {"parent", "grouping", "category", "other"}


@given(st.lists(statements(), min_size=1, max_size=3))
def test_valid_statements_are_never_rejected_and_come_back(lrs: Checked,
                                                           batch: list[dict[str, Any]]) -> None:
    for statement in batch:  # fresh ids: a generated id seen before with other content is 409
        if "id" in statement:
            statement["id"] = str(uuid.uuid4())
    response = lrs.request("POST", "/xapi/statements", json=batch)
    assert response.status_code == 200, (response.text, batch)
    for sent, statement_id in zip(batch, response.json(), strict=True):
        got = lrs.request("GET", "/xapi/statements", params={"statementId": statement_id})
        assert got.status_code == 200, got.text
        kept = got.json()
        for key in set(sent) - _ADDED:
            assert _untimed(kept[key]) == _untimed(sent[key]), key


def _untimed(value: Any) -> Any:
    """Without timestamps, which the LRS may convert to UTC (Data §4.5, 2.0 L4.2.7), and
    with each contextActivities value as an array, as the LRS returns it (Data §2.4.6.2)."""
    if isinstance(value, dict):
        return {k: ([v] if isinstance(v, dict) and k in _CONTEXT_LISTS else _untimed(v))
                for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


@given(broken_statements())
def test_near_valid_statements_are_400_naming_the_place(lrs: Checked,
                                                        case: tuple[str, dict[str, Any]]) -> None:
    kind, statement = case
    response = lrs.request("POST", "/xapi/statements", json=statement)
    assert response.status_code == 400, (kind, response.text, statement)
    problems = response.json()["error"]["problems"]
    assert problems and all(p["path"].startswith("$") and p["message"] for p in problems), \
        response.text


@given(statement_queries)
def test_statement_queries_never_fail(lrs: Checked, query: list[tuple[str, str]]) -> None:
    response = lrs.request("GET", "/xapi/statements", params=query)
    if response.status_code == 400:
        assert any(p["path"].startswith("?") for p in response.json()["error"]["problems"]) \
            or "parameter" in response.json()["error"]["message"], response.text


@given(st.sampled_from(["/xapi/activities/state", "/xapi/activities/profile",
                        "/xapi/agents/profile", "/xapi/activities", "/xapi/agents"]),
       st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]), document_params,
       document_bodies, content_types)
def test_document_requests_never_fail(lrs: Checked, path: str, method: str,
                                      params: dict[str, str], body: bytes,
                                      content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if method in ("PUT", "POST"):
        headers["If-None-Match"] = "*" if len(body) % 2 else ""
    lrs.request(method, path, params=params, content=body if method in ("PUT", "POST")
                else None, headers={k: v for k, v in headers.items() if v})


@given(st.binary(max_size=300) | statements().map(lambda s: json.dumps(s).encode()[:-7]))
def test_arbitrary_bodies_are_never_a_server_error(lrs: Checked, body: bytes) -> None:
    response = lrs.request("POST", "/xapi/statements", content=body,
                           headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.text
