"""The door checks through the app, on every engine: off, flag, reject for the cmi5 check,
marks beside flagged statements, metrics, and setting the modes (admin API, CLI, records)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

import lrs.reports
from lrs.config import Settings
from lrs.credentials import CheckMode, Credential, Scope
from lrs.door import Door
from lrs.storage import Storage
from statements.checks import CheckContext, Finding
from tests.cmi5_material import AU, SESSION, cmi5_statement
from tests.conftest import Client, add_credential, app_client, scrape, with_metrics_token
from tests.factories import make_agent
from tests.lrs.test_metrics import sample

pytestmark = pytest.mark.usefixtures("engine")
V2 = {"X-Experience-API-Version": "2.0.0"}
FINDINGS = "lrs_door_check_findings_total"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Metrics on, credentials looked up on every request (modes change mid-test)."""
    return with_metrics_token(settings).model_copy(update={"credential_cache_seconds": 0})


async def sender(storage: Storage, name: str, cmi5: CheckMode, *,
                 lms: bool = False) -> dict[str, str]:
    """A credential whose cmi5 mode is `cmi5`, set as an operator would (set_checks)."""
    auth = await add_credential(storage, Scope.ALL, name=name)
    [made] = [c for c in await storage.credentials.list() if c.name == name]
    await storage.credentials.set_checks(made.key, cmi5=cmi5, profiles=CheckMode.OFF,
                                         cmi5_lms=lms)
    return {**auth, **V2}


@pytest.fixture
async def client(settings: Settings, storage: Storage) -> AsyncIterator[Client]:
    async with app_client(settings, storage) as c:
        yield c


async def stored(client: Client, auth: dict[str, str], statement_id: str) -> int:
    response = await client.get("/xapi/statements", params={"statementId": statement_id},
                                headers=auth)
    return response.status_code


def no_session(verb: str, **kwargs: Any) -> dict[str, Any]:
    statement = cmi5_statement(verb, **kwargs)
    del statement["context"]["extensions"][SESSION]
    return statement


async def test_off_checks_nothing(client: Client, storage: Storage) -> None:
    auth = await sender(storage, "off", CheckMode.OFF)
    broken = no_session("initialized")
    response = await client.post("/xapi/statements", json=[broken], headers=auth)
    assert response.status_code == 200, response.text
    assert await stored(client, auth, broken["id"]) == 200
    assert await storage.marks.of([broken["id"]]) == {}
    assert sample(await scrape(client), FINDINGS, check="cmi5", rule="session-id",
                  outcome="flagged") == 0


async def test_reject_refuses_the_whole_batch_naming_rule_section_and_path(
        client: Client, storage: Storage) -> None:
    auth = await sender(storage, "strict", CheckMode.REJECT)
    good, broken = cmi5_statement("initialized"), no_session("initialized")
    response = await client.post("/xapi/statements", json=[good, broken], headers=auth)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "cmi5" in error["message"]
    [problem] = error["problems"]
    assert problem["path"] == f'$[1].context.extensions["{SESSION}"]'
    assert "cmi5 rule session-id" in problem["message"]
    assert "§9.6.3.1" in problem["message"]
    for sent in (good, broken):  # nothing of the batch is written
        assert await stored(client, auth, sent["id"]) == 404
    assert sample(await scrape(client), FINDINGS, check="cmi5", rule="session-id",
                  outcome="rejected") == 1
    # PUT of one statement: the path starts at `$`.
    response = await client.put("/xapi/statements", params={"statementId": broken["id"]},
                                json=broken, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"].startswith("$.context.extensions")
    # The same statements, following the rules, are accepted.
    response = await client.post("/xapi/statements", json=[good], headers=auth)
    assert response.status_code == 200, response.text


async def test_flag_stores_marks_beside_the_statement_and_counts_once(
        client: Client, storage: Storage) -> None:
    auth = await sender(storage, "lenient", CheckMode.FLAG)
    good, broken = cmi5_statement("initialized"), no_session("initialized")
    response = await client.post("/xapi/statements", json=[good, broken], headers=auth)
    assert response.status_code == 200, response.text
    got = await client.get("/xapi/statements", params={"statementId": broken["id"]},
                           headers=auth)
    assert got.status_code == 200
    assert "cmi5" not in {k for k in got.json()} and "marks" not in got.text
    marks = await storage.marks.of([good["id"], broken["id"]])
    assert list(marks) == [broken["id"]]
    [mark] = marks[broken["id"]]
    assert (mark["check"], mark["rule"], mark["section"]) == ("cmi5", "session-id",
                                                               "cmi5 §9.6.3.1")
    assert mark["path"] == f'$.context.extensions["{SESSION}"]'
    text = await scrape(client)
    assert sample(text, FINDINGS, check="cmi5", rule="session-id", outcome="flagged") == 1
    # An exact retry stores nothing new: counted once.
    again = await client.post("/xapi/statements", json=[broken], headers=auth)
    assert again.status_code == 200
    assert sample(await scrape(client), FINDINGS, check="cmi5", rule="session-id",
                  outcome="flagged") == 1


async def test_completed_and_passed_at_most_once_per_registration(
        client: Client, storage: Storage) -> None:
    auth = await sender(storage, "strict", CheckMode.REJECT)
    registration = str(uuid.uuid4())
    first = cmi5_statement("completed", registration=registration)
    assert (await client.post("/xapi/statements", json=[first], headers=auth)
            ).status_code == 200
    second = cmi5_statement("completed", registration=registration)
    response = await client.post("/xapi/statements", json=[second], headers=auth)
    assert response.status_code == 400
    [problem] = response.json()["error"]["problems"]
    assert problem["path"] == "$[0].verb.id" and "completed-once" in problem["message"]
    # Twice in one batch, for a fresh registration: the second is refused.
    other = str(uuid.uuid4())
    twice = [cmi5_statement("passed", registration=other),
             cmi5_statement("passed", registration=other)]
    response = await client.post("/xapi/statements", json=twice, headers=auth)
    assert [p["path"] for p in response.json()["error"]["problems"]] == ["$[1].verb.id"]
    # Another registration is another attempt.
    fine = cmi5_statement("completed", registration=str(uuid.uuid4()))
    assert (await client.post("/xapi/statements", json=[fine], headers=auth)
            ).status_code == 200


async def test_nothing_after_terminated_in_the_same_session(
        client: Client, storage: Storage) -> None:
    auth = await sender(storage, "strict", CheckMode.REJECT)
    registration, session = str(uuid.uuid4()), str(uuid.uuid4())
    ended = cmi5_statement("terminated", registration=registration, session=session)
    assert (await client.post("/xapi/statements", json=[ended], headers=auth)
            ).status_code == 200
    late = cmi5_statement("initialized", registration=registration, session=session)
    response = await client.post("/xapi/statements", json=[late], headers=auth)
    assert response.status_code == 400
    assert "after-terminated" in response.json()["error"]["problems"][0]["message"]
    new_session = cmi5_statement("initialized", registration=registration)
    assert (await client.post("/xapi/statements", json=[new_session], headers=auth)
            ).status_code == 200
    # The LMS's own statements may follow the AU's terminated (§9.3.9 satisfied).
    lms = await sender(storage, "lms", CheckMode.REJECT, lms=True)
    satisfied = cmi5_statement("satisfied", registration=registration, session=session)
    response = await client.post("/xapi/statements", json=[satisfied], headers=lms)
    assert response.status_code == 200, response.text


async def test_satisfied_only_from_the_lms_credential(client: Client, storage: Storage) -> None:
    au = await sender(storage, "au", CheckMode.REJECT)
    lms = await sender(storage, "lms", CheckMode.REJECT, lms=True)
    response = await client.post("/xapi/statements", json=[cmi5_statement("satisfied")],
                                 headers=au)
    assert response.status_code == 400
    assert "lms-only" in response.json()["error"]["problems"][0]["message"]
    response = await client.post("/xapi/statements", json=[cmi5_statement("satisfied")],
                                 headers=lms)
    assert response.status_code == 200, response.text


async def test_the_admin_api_sets_and_shows_the_modes(client: Client, storage: Storage) -> None:
    root = {**await add_credential(storage, Scope.ADMIN, name="root"), **V2}
    made = await client.post("/api/v1/admin/credentials", headers=root, json={
        "name": "au", "scopes": ["statements/write"], "cmi5": "flag"})
    assert made.status_code == 201, made.text
    assert (made.json()["cmi5"], made.json()["profiles"]) == ("flag", "off")
    changed = await client.patch("/api/v1/admin/credentials/au", headers=root,
                                 json={"cmi5": "reject", "cmi5_lms": True})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["cmi5"], changed.json()["cmi5_lms"]) == ("reject", True)
    kept = await storage.credentials.find_by_name("au")
    assert kept is not None and kept.cmi5 is CheckMode.REJECT and kept.cmi5_lms
    assert kept.profiles is CheckMode.OFF
    bad = await client.patch("/api/v1/admin/credentials/au", headers=root,
                             json={"cmi5": "sometimes"})
    assert bad.status_code == 400 and bad.json()["error"]["problems"][0]["path"] == "$.cmi5"
    missing = await client.patch("/api/v1/admin/credentials/nobody", headers=root,
                                 json={"cmi5": "off"})
    assert missing.status_code == 404


@pytest.mark.parametrize("batch", [500, 1])
async def test_the_compliance_report_shows_the_deciding_statements_flags(
        client: Client, storage: Storage, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Marks are looked up a batch of rows at a time: one batch, and one row per batch.
    monkeypatch.setattr(lrs.reports, "MARK_BATCH", batch)
    auth = await sender(storage, "lenient", CheckMode.FLAG)
    reader = {**await add_credential(storage, Scope.COMPLIANCE_READ, name="auditor"), **V2}
    flagged = cmi5_statement("completed", actor=make_agent("alice"))
    del flagged["result"]["duration"]
    clean = cmi5_statement("completed", actor=make_agent("bob"))
    response = await client.post("/xapi/statements", json=[flagged, clean], headers=auth)
    assert response.status_code == 200, response.text
    report = await client.get("/api/v1/compliance/report", params={"activity": AU},
                              headers=reader)
    assert report.status_code == 200, report.text
    flags = {row["agent"]: row["flags"] for row in report.json()["rows"]}
    assert flags == {"mbox:mailto:alice@example.com": "cmi5:duration",
                     "mbox:mailto:bob@example.com": None}
    csv = await client.get("/api/v1/compliance/report",
                           params={"activity": AU, "format": "csv"}, headers=reader)
    assert csv.text.splitlines()[0].endswith(",flags") and "cmi5:duration" in csv.text


@dataclass
class Watched:
    """A door check of its own: records whether the door asked it anything."""

    name: str = "watched"
    checked: int = 0

    def mode_of(self, credential: Any) -> CheckMode:
        return CheckMode(credential.profiles)

    async def check(self, statements: Sequence[dict[str, Any]], context: CheckContext
                    ) -> list[list[Finding]]:
        self.checked += 1
        return [[Finding("watched", "always", "test §1", "$.verb", "seen")] for _ in statements]


async def test_with_every_check_off_the_door_runs_nothing(storage: Storage) -> None:
    door = Door(count=None)
    door.add(Watched())
    credential = await _credential(storage, CheckMode.OFF)
    verdict = await door.inspect([cmi5_statement("initialized")], ["x"],
                                 credential=credential, store=storage.statements, single=False)
    assert door.checks[0].checked == 0  # type: ignore[attr-defined]
    assert not verdict.marks
    flagged = await _credential(storage, CheckMode.FLAG)
    verdict = await door.inspect([cmi5_statement("initialized")], ["x"],
                                 credential=flagged, store=storage.statements, single=False)
    assert door.checks[0].checked == 1  # type: ignore[attr-defined]
    assert list(verdict.marks) == ["x"]
    with pytest.raises(ValueError, match="registered already"):
        door.add(Watched())


async def _credential(storage: Storage, profiles: CheckMode) -> Credential:
    name = f"c-{profiles.value}"
    await add_credential(storage, Scope.ALL, name=name)
    made = await storage.credentials.find_by_name(name)
    assert made is not None
    await storage.credentials.set_checks(made.key, cmi5=CheckMode.OFF, profiles=profiles,
                                         cmi5_lms=False)
    changed = await storage.credentials.get(made.key)
    assert changed is not None
    return changed
