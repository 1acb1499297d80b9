"""Completion rules, the deciding statement and recertification in reports, on every engine."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Client
from tests.factories import COURSE, make_agent, make_statement, voiding
from tests.lrs.test_compliance_api import REPORT, by_agent, post, rows_of

ADL = "http://adlnet.gov/expapi/verbs/"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
ALICE, BOB, CAROL = (f"mbox:mailto:{n}@example.com" for n in ("alice", "bob", "carol"))


def did(agent: str, verb: str, when: str, result: dict[str, Any] | None = None,
        activity: str = COURSE) -> dict[str, Any]:
    """A statement: `agent` did `verb` (an ADL verb name, or an IRI) at `when`."""
    return make_statement(actor=make_agent(agent), timestamp=when, result=result,
                          verb={"id": verb if ":" in verb else ADL + verb},
                          object={"objectType": "Activity", "id": activity})


async def catalogue(client: Client, **entry: Any) -> None:
    response = await client.post("/api/v1/catalogue", json={"version": 1, "entries": [
        {"kind": "activity", "value": COURSE, "name": "Fire safety", **entry}]})
    assert response.status_code == 200, response.text


async def report(client: Client, **params: str) -> dict[str, dict[str, Any]]:
    return by_agent(rows_of(await client.get(REPORT, params={"activity": COURSE, **params})))


async def test_a_completed_without_result_counts_and_names_its_statement(client: Client) -> None:
    bare = did("alice", "completed", "2025-03-01T09:00:00.000Z")
    launched = did("bob", "launched", "2025-03-01T09:00:00.000Z")
    await post(client, bare, launched)
    rows = await report(client)
    alice = rows[ALICE]
    assert (alice["status"], alice["decided_by"], alice["decided_verb"], alice["decided_at"]) \
        == ("completed", bare["id"], ADL + "completed", "2025-03-01T09:00:00.000Z")
    assert alice["reason"] == "verb completed"
    assert alice["completed_statement"] == bare["id"]
    assert (alice["latest_statement"], alice["completion"]) == (None, None)  # no result
    assert [e["id"] for e in alice["evidence"]] == [bare["id"]]
    bob = rows[BOB]
    assert (bob["status"], bob["decided_by"], bob["decided_verb"]) == (
        "not completed", launched["id"], ADL + "launched")
    assert "latest is verb launched" in bob["reason"]


@pytest.mark.parametrize(("verb", "result", "completed"), [
    ("passed", None, True),
    ("mastered", None, True),
    (SATISFIED, None, True),
    ("experienced", {"completion": True}, True),
    ("answered", {"success": True}, True),
    ("failed", {"success": False, "completion": False}, False),
    ("attempted", None, False),
    ("experienced", {"completion": False}, False),
    ("completed", {"completion": False}, False),  # the result contradicts the verb
    ("passed", {"success": False}, False),
])
async def test_the_default_rule(client: Client, verb: str, result: dict[str, Any] | None,
                                completed: bool) -> None:
    await post(client, did("alice", verb, "2025-03-01T09:00:00.000Z", result))
    status = (await report(client))[ALICE]["status"]
    assert status == ("completed" if completed else "not completed")


async def test_failed_then_passed_is_decided_by_the_pass(client: Client) -> None:
    failed = did("alice", "failed", "2025-01-01T00:00:00.000Z",
                 {"success": False, "score": {"scaled": 0.4}})
    passed = did("alice", "passed", "2025-02-01T00:00:00.000Z",
                 {"success": True, "score": {"scaled": 0.9}})
    only_failed = did("bob", "failed", "2025-01-01T00:00:00.000Z", {"success": False})
    await post(client, failed, passed, only_failed)
    rows = await report(client)
    assert (rows[ALICE]["status"], rows[ALICE]["decided_by"], rows[ALICE]["score_scaled"]) == (
        "completed", passed["id"], 0.9)
    assert (rows[BOB]["status"], rows[BOB]["decided_by"]) == ("not completed", only_failed["id"])


async def test_a_voided_completion_does_not_count(client: Client) -> None:
    attempted = did("alice", "attempted", "2025-01-01T00:00:00.000Z")
    completed = did("alice", "completed", "2025-02-01T00:00:00.000Z")
    lone = did("bob", "completed", "2025-02-01T00:00:00.000Z")
    await post(client, attempted, completed, lone)
    await post(client, voiding(completed["id"]), voiding(lone["id"]))
    rows = rows_of(await client.post(REPORT, params={"activity": COURSE},
                                     json={"roster": [make_agent("alice"), make_agent("bob")]}))
    assert [(r["agent"], r["status"], r["decided_by"]) for r in rows] == [
        (ALICE, "not completed", attempted["id"]), (BOB, "no record", None)]


async def test_validity_valid_expiring_expired_as_of_a_date(client: Client) -> None:
    await catalogue(client, valid_for="P12M", warn_before="P1M")
    await post(client,
               did("alice", "completed", "2025-01-31T10:00:00.000Z"),
               did("bob", "completed", "2024-03-15T10:00:00.000Z"),
               did("carol", "failed", "2025-01-10T00:00:00.000Z", {"success": False}))
    rows = await report(client, as_of="2025-06-01")
    alice, bob, carol = rows[ALICE], rows[BOB], rows[CAROL]
    assert (alice["status"], alice["valid_until"]) == ("valid", "2026-01-31T10:00:00.000Z")
    assert (bob["status"], bob["valid_until"]) == ("expired", "2025-03-15T10:00:00.000Z")
    assert (carol["status"], carol["valid_until"]) == ("not completed", None)
    # Within a month of its end, as of 2026-01-10; expired on the day itself.
    assert (await report(client, as_of="2026-01-10"))[ALICE]["status"] == "expiring"
    assert (await report(client, as_of="2026-01-31T10:00:00Z"))[ALICE]["status"] == "expired"
    # As of 2025-01-01: Alice had not done it yet (later statements are not read), and
    # Bob's certificate had two and a half months left (more than the month of warning).
    past = await report(client, as_of="2025-01-01")
    assert sorted(past) == [BOB]
    assert past[BOB]["status"] == "valid"
    body = (await client.get(REPORT, params={"activity": COURSE, "as_of": "2025-01-01"})).json()
    assert body["as_of"] == "2025-01-01T00:00:00.000Z"
    assert body["until"] == "2025-01-01T00:00:00.000Z"


async def test_the_warning_window_defaults_to_the_setting(client: Client) -> None:
    # P30D (LRS_COMPLIANCE_EXPIRING_WITHIN), judged now when no as_of is given.
    now = datetime.now(UTC)
    await catalogue(client, valid_for="P1Y")
    soon = (now - timedelta(days=365 - 10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fresh = (now - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    await post(client, did("alice", "passed", soon), did("bob", "passed", fresh))
    rows = await report(client)
    assert (rows[ALICE]["status"], rows[BOB]["status"]) == ("expiring", "valid")


async def test_a_retake_renews_the_certificate(client: Client) -> None:
    await catalogue(client, valid_for="P6M")
    first = did("alice", "passed", "2024-01-01T00:00:00.000Z")
    again = did("alice", "passed", "2024-12-01T00:00:00.000Z")
    await post(client, first, again)
    row = (await report(client, as_of="2025-03-01"))[ALICE]
    assert (row["status"], row["decided_by"], row["valid_until"]) == (
        "valid", again["id"], "2025-06-01T00:00:00.000Z")
    row = (await report(client, as_of="2024-11-01"))[ALICE]
    assert (row["status"], row["decided_by"]) == ("expired", first["id"])


async def test_a_custom_rule_verbs_success_and_score(client: Client) -> None:
    await catalogue(client, completion={"verbs": [ADL + "passed"], "success_required": True,
                                        "min_score": 0.8})
    await post(client,
               did("alice", "passed", "2025-01-01T00:00:00.000Z",
                   {"success": True, "score": {"scaled": 0.85}}),
               did("bob", "passed", "2025-01-01T00:00:00.000Z",
                   {"success": True, "score": {"scaled": 0.7}}),
               did("carol", "completed", "2025-01-01T00:00:00.000Z",
                   {"completion": True, "success": True, "score": {"scaled": 1.0}}),
               did("dave", "passed", "2025-01-01T00:00:00.000Z", {"score": {"scaled": 0.9}}))
    rows = await report(client)
    assert {agent: row["status"] for agent, row in rows.items()} == {
        ALICE: "completed", BOB: "not completed", CAROL: "not completed",
        "mbox:mailto:dave@example.com": "not completed"}
    assert rows[ALICE]["reason"] == "verb passed, result.success true, " \
                                    "result.score.scaled 0.85 ≥ 0.8"


async def test_csv_carries_the_same_fields_as_json(client: Client) -> None:
    await catalogue(client, valid_for="P12M")
    statement = did("alice", "completed", "2025-01-31T10:00:00.000Z")
    await post(client, statement)
    params = {"activity": COURSE, "as_of": "2025-06-01"}
    [json_row] = rows_of(await client.get(REPORT, params=params))
    response = await client.get(REPORT, params={**params, "format": "csv"})
    [csv_row] = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert list(csv_row) == [("evidence_urls" if k == "evidence" else k) for k in json_row]
    assert (csv_row["status"], csv_row["valid_until"], csv_row["decided_by"],
            csv_row["decided_verb"], csv_row["decided_at"]) == (
        "valid", "2026-01-31T10:00:00.000Z", statement["id"], ADL + "completed",
        "2025-01-31T10:00:00.000Z")


async def test_catalogue_api_keeps_rules_and_validity(client: Client) -> None:
    rule = {"verbs": [ADL + "passed"], "success_required": True, "min_score": 0.5}
    await catalogue(client, completion=rule, valid_for="P2Y", warn_before="P60D")
    [entry] = (await client.get("/api/v1/catalogue")).json()["entries"]
    assert entry == {"kind": "activity", "value": COURSE, "name": "Fire safety",
                     "completion": rule, "valid_for": "P2Y", "warn_before": "P60D"}
    await catalogue(client)  # replaced by one without rules: the defaults again
    [entry] = (await client.get("/api/v1/catalogue")).json()["entries"]
    assert entry == {"kind": "activity", "value": COURSE, "name": "Fire safety"}


@pytest.mark.parametrize(("entry", "where", "says"), [
    ({"valid_for": "12 months"}, "entries[0].valid_for", "ISO 8601 duration"),
    ({"valid_for": "P1Y", "warn_before": "PT5H"}, "entries[0].warn_before", "no time part"),
    ({"warn_before": "P1M"}, "entries[0].warn_before", "only means something with valid_for"),
    ({"completion": {"min_score": 1.5}}, "entries[0].completion.min_score", "maximum of 1"),
    ({"completion": {"verbs": ["passed"]}}, "entries[0].completion.verbs[0]", "absolute IRI"),
    ({"completion": {"verbs": []}}, "entries[0].completion.verbs", "should be non-empty"),
    ({"completion": {"score": 1}}, "entries[0].completion.score", "Additional properties"),
])
async def test_catalogue_api_bad_rules_are_400_naming_the_place(
        client: Client, entry: dict[str, Any], where: str, says: str) -> None:
    response = await client.post("/api/v1/catalogue", json={"version": 1, "entries": [
        {"kind": "activity", "value": COURSE, **entry}]})
    assert response.status_code == 400, response.text
    messages = [p["message"] for p in response.json()["error"]["problems"]]
    assert any(f", {where}: " in m and says in m for m in messages), messages


async def test_report_bad_as_of_is_400(client: Client) -> None:
    response = await client.get(REPORT, params={"activity": COURSE, "as_of": "last week"})
    assert response.status_code == 400
    [problem] = response.json()["error"]["problems"]
    assert problem["path"] == "?as_of"


async def test_the_worked_example_of_docs_compliance(client: Client) -> None:
    """docs/compliance.md, "A worked example: recertification", as it is written there."""
    await catalogue(client, completion={"verbs": [ADL + "passed"], "min_score": 0.8},
                    valid_for="P12M", warn_before="P1M")
    await post(client,
               did("ada", "passed", "2025-01-31T10:00:00.000Z", {"score": {"scaled": 0.9}}),
               did("bob", "passed", "2024-03-15T10:00:00.000Z", {"score": {"scaled": 0.85}}),
               did("bob", "failed", "2025-04-02T09:00:00.000Z", {"score": {"scaled": 0.4}}),
               did("cleo", "passed", "2025-05-20T14:00:00.000Z", {"score": {"scaled": 0.7}}),
               did("dan", "completed", "2025-05-21T08:00:00.000Z"))
    rows = rows_of(await client.get(REPORT, params={"activity": COURSE, "as_of": "2025-06-01"}))
    assert [(r["agent_name"], r["status"], r["valid_until"], r["decided_verb"].rsplit("/")[-1],
             r["decided_at"], r["reason"]) for r in rows] == [
        ("Ada", "valid", "2026-01-31T10:00:00.000Z", "passed", "2025-01-31T10:00:00.000Z",
         "verb passed, result.score.scaled 0.9 ≥ 0.8"),
        ("Bob", "expired", "2025-03-15T10:00:00.000Z", "passed", "2024-03-15T10:00:00.000Z",
         "verb passed, result.score.scaled 0.85 ≥ 0.8"),
        ("Cleo", "not completed", None, "passed", "2025-05-20T14:00:00.000Z",
         "no statement meets the rule; the latest is verb passed"),
        ("Dan", "not completed", None, "completed", "2025-05-21T08:00:00.000Z",
         "no statement meets the rule; the latest is verb completed"),
    ]
    assert rows[1]["score_scaled"] == 0.4  # the failed retake, in the result columns
    statuses = {r["agent_name"]: r["status"] for r in rows_of(await client.get(
        REPORT, params={"activity": COURSE, "as_of": "2026-01-10"}))}
    assert statuses["Ada"] == "expiring"
    early = rows_of(await client.get(REPORT, params={"activity": COURSE,
                                                     "as_of": "2025-01-01"}))
    assert [(r["agent_name"], r["status"], r["valid_until"]) for r in early] == [
        ("Bob", "valid", "2025-03-15T10:00:00.000Z")]
