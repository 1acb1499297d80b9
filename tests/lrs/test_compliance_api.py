"""Compliance reports and evidence export over HTTP, on every engine."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import Storage
from plugins.catalogue import CatalogueEntry
from tests.conftest import Client, add_credential, app_client
from tests.factories import COURSE, make_agent, make_statement, voiding

REPORT = "/api/v1/compliance/report"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
EXPORT = "/api/v1/compliance/export"


async def post(client: Client, *statements: dict[str, Any]) -> None:
    response = await client.post("/xapi/statements", json=list(statements))
    assert response.status_code == 200, response.text


def attempt(agent: str, when: str, *, completion: bool, score: float = 0.5,
            activity: str = COURSE, **overrides: Any) -> dict[str, Any]:
    """A scored attempt: verb passed with completion and success true, or failed."""
    overrides.setdefault("verb", {"id": PASSED if completion else FAILED})
    return make_statement(actor=make_agent(agent), timestamp=when,
                          object={"objectType": "Activity", "id": activity},
                          result={"completion": completion, "success": completion,
                                  "score": {"scaled": score}, "duration": "PT10M"},
                          **overrides)


def rows_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["count"] == len(body["rows"])
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def by_agent(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["agent"]: row for row in rows}


async def test_report_gives_each_agents_latest_result_and_completion(client: Client) -> None:
    old_pass = attempt("alice", "2025-01-01T00:00:00.000Z", completion=True, score=0.9)
    new_fail = attempt("alice", "2025-06-01T00:00:00.000Z", completion=False, score=0.3)
    bob = attempt("bob", "2025-03-01T00:00:00.000Z", completion=False)
    elsewhere = attempt("carol", "2025-03-01T00:00:00.000Z", completion=True,
                        activity="http://example.com/other")
    await post(client, old_pass, new_fail, bob, elsewhere)
    rows = rows_of(await client.get(REPORT, params={"activity": COURSE}))
    assert [r["agent"] for r in rows] == ["mbox:mailto:alice@example.com",
                                          "mbox:mailto:bob@example.com"]
    alice, bob_row = rows
    assert alice["status"] == "completed"
    assert alice["completed_at"] == "2025-01-01T00:00:00.000Z"
    assert alice["completed_statement"] == old_pass["id"]
    assert alice["latest_at"] == "2025-06-01T00:00:00.000Z"
    assert alice["latest_statement"] == new_fail["id"]
    assert (alice["completion"], alice["success"], alice["score_scaled"]) == (False, False, 0.3)
    assert alice["duration"] == "PT10M"
    assert alice["agent_name"] == "Alice"
    assert [e["id"] for e in alice["evidence"]] == [new_fail["id"], old_pass["id"]]
    assert alice["evidence"][0]["url"].endswith(f"/xapi/statements?statementId={new_fail['id']}")
    assert bob_row["status"] == "not completed"
    assert bob_row["completed_at"] is None
    assert [e["id"] for e in bob_row["evidence"]] == [bob["id"]]
    # The evidence link answers with the statement.
    fetched = await client.get("/xapi/statements", params={"statementId": old_pass["id"]})
    assert fetched.json()["id"] == old_pass["id"]


async def test_report_roster_lists_those_who_have_not_completed(client: Client) -> None:
    await post(client, attempt("alice", "2025-01-01T00:00:00.000Z", completion=True),
               attempt("bob", "2025-01-01T00:00:00.000Z", completion=False),
               attempt("zed", "2025-01-01T00:00:00.000Z", completion=True))
    roster = [make_agent("carol"), make_agent("alice"), make_agent("bob"),
              make_agent("alice")]  # a duplicate counts once
    rows = rows_of(await client.post(REPORT, params={"activity": COURSE},
                                     json={"roster": roster}))
    assert [(r["agent"], r["status"]) for r in rows] == [
        ("mbox:mailto:alice@example.com", "completed"),
        ("mbox:mailto:bob@example.com", "not completed"),
        ("mbox:mailto:carol@example.com", "no record"),
    ]
    carol = rows[2]
    assert carol["agent_name"] == "Carol"
    assert carol["activity"] == COURSE
    assert carol["evidence"] == []


async def test_report_leaves_out_voided_statements(client: Client) -> None:
    passed = attempt("alice", "2025-01-01T00:00:00.000Z", completion=True)
    failed = attempt("alice", "2024-01-01T00:00:00.000Z", completion=False)
    only = attempt("bob", "2025-01-01T00:00:00.000Z", completion=True)
    await post(client, passed, failed, only)
    await post(client, voiding(passed["id"]), voiding(only["id"]))
    rows = rows_of(await client.get(REPORT, params={"activity": COURSE}))
    assert [(r["agent"], r["status"], r["latest_statement"]) for r in rows] == [
        ("mbox:mailto:alice@example.com", "not completed", failed["id"])]
    rostered = rows_of(await client.post(REPORT, params={"activity": COURSE},
                                         json={"roster": [make_agent("bob")]}))
    assert [(r["agent"], r["status"]) for r in rostered] == [("mbox:mailto:bob@example.com",
                                                              "no record")]


async def test_report_since_and_until_bound_the_timestamp(client: Client) -> None:
    early = attempt("alice", "2024-06-01T00:00:00.000Z", completion=True)
    inside = attempt("alice", "2025-06-01T12:00:00.000Z", completion=False)
    late = attempt("alice", "2026-06-01T00:00:00.000Z", completion=True)
    edge = attempt("bob", "2025-01-01T00:00:00.000Z", completion=True)  # == since: excluded
    await post(client, early, inside, late, edge)
    params = {"activity": COURSE, "since": "2025-01-01T00:00:00Z",
              "until": "2026-01-01T02:00:00+02:00"}
    rows = rows_of(await client.get(REPORT, params=params))
    assert [(r["agent"], r["status"], r["latest_statement"]) for r in rows] == [
        ("mbox:mailto:alice@example.com", "not completed", inside["id"])]
    body = (await client.get(REPORT, params=params)).json()
    assert (body["since"], body["until"]) == ("2025-01-01T00:00:00.000Z",
                                              "2026-01-01T00:00:00.000Z")
    only_until = rows_of(await client.get(REPORT, params={"activity": COURSE,
                                                          "until": "2025-01-01T00:00:00Z"}))
    assert {(r["agent"], r["latest_statement"]) for r in only_until} == {
        ("mbox:mailto:alice@example.com", early["id"]), ("mbox:mailto:bob@example.com", edge["id"])}


async def test_report_and_export_take_a_plain_date_as_the_start_of_that_day_utc(
        client: Client) -> None:
    before = attempt("alice", "2024-12-31T23:59:59.999Z", completion=True)
    after = attempt("bob", "2025-01-01T00:00:00.001Z", completion=True)
    await post(client, before, after)
    response = await client.get(REPORT, params={"activity": COURSE, "since": "2025-01-01",
                                                "until": "2025-02-01"})
    assert [r["agent"] for r in rows_of(response)] == ["mbox:mailto:bob@example.com"]
    body = response.json()
    assert (body["since"], body["until"]) == ("2025-01-01T00:00:00.000Z",
                                              "2025-02-01T00:00:00.000Z")
    # The export's window is on `stored` (now): a date in the future keeps nothing.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    kept = await client.get(EXPORT, params={"since": "2025-01-01"})
    none = await client.get(EXPORT, params={"since": tomorrow})
    assert (kept.status_code, none.status_code) == (200, 200)
    assert len(archive_statements(kept)) == 2 and archive_statements(none) == []


@pytest.mark.parametrize("url", [REPORT, EXPORT])
async def test_a_bad_date_says_a_plain_date_is_accepted(client: Client, url: str) -> None:
    response = await client.get(url, params={"since": "2025-13-01"})
    assert response.status_code == 400
    [problem] = response.json()["error"]["problems"]
    assert problem["path"] == "?since"
    assert "or a date YYYY-MM-DD (the start of that day, UTC)" in problem["message"]


def archive_statements(response: Any) -> list[Any]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        return [orjson.loads(line) for line in zipped.read("statements.jsonl").splitlines()]


async def test_report_csv_is_well_formed(client: Client) -> None:
    tricky = make_agent("eve")
    tricky["name"] = '=HYPERLINK("x"), "quoted"\nnew line'
    statement = attempt("eve", "2025-01-01T00:00:00.000Z", completion=True)
    statement["actor"] = tricky
    await post(client, statement, attempt("bob", "2025-01-01T00:00:00.000Z", completion=False))
    response = await client.post(REPORT, params={"activity": COURSE, "format": "csv"},
                                 json={"roster": [make_agent("carol")]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.endswith("\r\n")
    table = list(csv.DictReader(io.StringIO(response.text, newline="")))
    # The roster names exactly who is reported.
    assert [(r["agent"], r["status"]) for r in table] == [("mbox:mailto:carol@example.com",
                                                           "no record")]
    everyone = await client.get(REPORT, params={"activity": COURSE, "format": "csv"})
    table = list(csv.DictReader(io.StringIO(everyone.text, newline="")))
    assert [r["agent"] for r in table] == ["mbox:mailto:bob@example.com",
                                           "mbox:mailto:eve@example.com"]
    eve = table[1]
    assert eve["agent_name"] == "'" + tricky["name"]  # a formula is defused, text kept
    assert eve["status"] == "completed"
    assert eve["completion"] == "true"
    assert eve["score_scaled"] == "0.5"
    assert eve["evidence_urls"].endswith(statement["id"])
    assert table[0]["completed_at"] == ""


async def test_report_without_activity_covers_every_catalogue_entry(
        client: Client, storage: Storage) -> None:
    await storage.catalogue.add([
        CatalogueEntry("activity", COURSE, "Fire safety"),
        CatalogueEntry("prefix", "http://example.com/gdpr/"),
        CatalogueEntry("type", "http://example.com/types/mandatory"),
    ])
    await post(client, attempt("alice", "2025-01-01T00:00:00.000Z", completion=True),
               attempt("bob", "2025-01-01T00:00:00.000Z", completion=True,
                       activity="http://example.com/gdpr/part-2"),
               attempt("bob", "2025-01-01T00:00:00.000Z", completion=False,
                       activity="http://example.com/gdpr/part-1"),
               attempt("bob", "2025-01-01T00:00:00.000Z", completion=True,
                       activity="http://example.com/gdprx"))
    body = (await client.get(REPORT)).json()
    assert body["entries_not_reported"] == ["type:http://example.com/types/mandatory"]
    assert [(r["entry"], r["activity"], r["agent"], r["status"]) for r in body["rows"]] == [
        (f"activity:{COURSE}", COURSE, "mbox:mailto:alice@example.com", "completed"),
        ("prefix:http://example.com/gdpr/", "http://example.com/gdpr/part-1",
         "mbox:mailto:bob@example.com", "not completed"),
        ("prefix:http://example.com/gdpr/", "http://example.com/gdpr/part-2",
         "mbox:mailto:bob@example.com", "completed"),
    ]
    one_prefix = rows_of(await client.get(REPORT, params={"prefix": "http://example.com/gdpr/"}))
    assert [(r["activity"], r["status"]) for r in one_prefix] == [
        ("http://example.com/gdpr/part-1", "not completed"),
        ("http://example.com/gdpr/part-2", "completed")]
    rostered = await client.post(REPORT, json={"roster": [make_agent("alice")]})
    assert [(r["entry"], r["activity"], r["status"]) for r in rostered.json()["rows"]] == [
        (f"activity:{COURSE}", COURSE, "completed"),
        ("prefix:http://example.com/gdpr/", None, "no record"),
    ]


async def test_report_pages_through_many_agents(client: Client, storage: Storage,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from statements.stores import mongo_compliance, sqlite_compliance

    monkeypatch.setattr(sqlite_compliance, "GROUPS_PER_PAGE", 3)
    monkeypatch.setattr(mongo_compliance, "BATCH", 3)
    names = [f"learner{n:02d}" for n in range(11)]
    await post(client, *[attempt(n, "2025-01-01T00:00:00.000Z", completion=n[-1] in "02468")
                         for n in names],
               *[attempt(n, "2024-01-01T00:00:00.000Z", completion=True) for n in names[:5]])
    rows = rows_of(await client.get(REPORT, params={"activity": COURSE}))
    assert [r["agent"] for r in rows] == [f"mbox:mailto:{n}@example.com" for n in names]
    assert [r["status"] for r in rows] == ["completed"] * 5 + [
        "completed" if n[-1] in "02468" else "not completed" for n in names[5:]]


@pytest.mark.parametrize(("params", "path"), [
    ({"activity": "not an iri"}, "?activity"),
    ({"activity": COURSE, "since": "yesterday"}, "?since"),
    ({"activity": COURSE, "format": "xml"}, "?format"),
    ({"activity": COURSE, "agent": "x"}, "?agent"),
    ({"activity": COURSE, "prefix": "http://example.com/"}, "?prefix"),
    ({"prefix": "relative/"}, "?prefix"),
])
async def test_report_bad_parameters_are_400_naming_them(client: Client, params: dict[str, str],
                                                        path: str) -> None:
    response = await client.get(REPORT, params=params)
    assert response.status_code == 400
    assert path in response.text


@pytest.mark.parametrize(("roster", "path"), [
    ({"roster": [{"mbox": "mailto:a@example.com"}, {"mbox": "not-an-address"}]},
     "$.roster[1].mbox"),
    ({"roster": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}, "$.roster[0]"),
    ({"people": []}, "$.roster"),
])
async def test_report_bad_roster_is_400_naming_the_place(client: Client, roster: Any,
                                                        path: str) -> None:
    response = await client.post(REPORT, params={"activity": COURSE}, json=roster)
    assert response.status_code == 400, response.text
    assert path in response.text


async def test_report_and_export_need_the_compliance_scope(
        settings: Settings, storage: Storage) -> None:
    reader = await add_credential(storage, Scope.STATEMENTS_READ, name="reader")
    auditor = await add_credential(storage, Scope.COMPLIANCE_READ, name="auditor")
    async with app_client(settings, storage) as c:
        assert (await c.get(REPORT, headers=reader)).status_code == 403
        assert (await c.get(EXPORT, headers=reader)).status_code == 403
        assert (await c.get(REPORT, headers=auditor)).status_code == 200
        assert (await c.get(EXPORT, headers=auditor)).status_code == 200


def archive_of(content: bytes) -> tuple[list[dict[str, Any]], dict[str, Any], zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    lines = archive.read("statements.jsonl").decode().splitlines()
    return [orjson.loads(line) for line in lines], orjson.loads(archive.read("manifest.json")), \
        archive


async def test_export_archives_the_matching_statements(client: Client) -> None:
    alice = [attempt("alice", "2025-01-01T00:00:00.000Z", completion=True) for _ in range(3)]
    bob = attempt("bob", "2025-01-01T00:00:00.000Z", completion=True)
    other = attempt("alice", "2025-01-01T00:00:00.000Z", completion=True,
                    activity="http://example.com/other")
    gone = attempt("alice", "2025-01-01T00:00:00.000Z", completion=True)
    for statement in (*alice, bob, other, gone):
        await post(client, statement)
    void = voiding(gone["id"])
    await post(client, void)
    response = await client.get(EXPORT, params={
        "agent": orjson.dumps(make_agent("alice")).decode(), "activity": COURSE})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    statements, manifest, _ = archive_of(response.content)
    # Oldest first; the voided statement left out, the statement voiding it (which refers
    # to a match, Communication §2.1.3.s3) kept as evidence of the voiding.
    assert [s["id"] for s in statements] == [*(s["id"] for s in alice), void["id"]]
    assert manifest["statements"] == 4
    assert manifest["filter"]["activity"] == COURSE
    everything, _, _ = archive_of((await client.get(EXPORT)).content)
    assert [s["id"] for s in everything] == [s["id"] for s in (*alice, bob, other, void)]


async def test_export_includes_attachments(client: Client) -> None:
    import hashlib

    data = b"certificate bytes \x00\x01"
    sha2 = hashlib.sha256(data).hexdigest()
    statement = make_statement(attachments=[{
        "usageType": "http://example.com/attachment-usage/certificate",
        "display": {"en-US": "Certificate"}, "contentType": "application/pdf",
        "length": len(data), "sha2": sha2}])
    boundary = "abc123boundary"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
            + orjson.dumps(statement)
            + f"\r\n--{boundary}\r\nContent-Type: application/pdf\r\n"
              f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n"
              .encode()
            + data + f"\r\n--{boundary}--\r\n".encode())
    response = await client.post("/xapi/statements", content=body, headers={
        "Content-Type": f"multipart/mixed; boundary={boundary}"})
    assert response.status_code == 200, response.text
    statements, manifest, archive = archive_of((await client.get(EXPORT)).content)
    assert [s["id"] for s in statements] == [statement["id"]]
    assert archive.read(f"attachments/{sha2}") == data
    assert manifest["attachments"] == {sha2: "application/pdf"}


async def test_export_bad_filter_is_400(client: Client) -> None:
    response = await client.get(EXPORT, params={"agent": '{"mbox": "nope"}'})
    assert response.status_code == 400
    assert "?agent.mbox" in response.text
    assert (await client.get(EXPORT, params={"limit": "3"})).status_code == 400
