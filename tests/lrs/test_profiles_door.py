"""xAPI Profiles at the door, end to end on each engine: off, flag, reject per credential."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from lrs.config import Settings
from lrs.credentials import CheckMode, Credential, Retention, Scope, authority_for, hash_secret
from lrs.erasure import forget
from lrs.storage import Storage
from statements.indexing import agent_key
from tests.conftest import app_client, scrape, with_metrics_token
from tests.statements.test_profiles import (
    COMPLETED,
    DATA,
    PAUSED,
    cmi5_statement,
    video_statement,
)

PAUSED_VERB = "https://w3id.org/xapi/video/verbs/paused"
XAPI = {"X-Experience-API-Version": "2.0.0"}


async def credential(storage: Storage, mode: CheckMode) -> dict[str, str]:
    key, secret = uuid.uuid4().hex[:20], uuid.uuid4().hex
    await storage.credentials.add(Credential(
        key=key, name=f"lms-{mode.value}", secret_hash=hash_secret(secret),
        scopes=frozenset({Scope.ALL}), retention=Retention.FULL,
        authority=authority_for(key, "lms", "http://lrs.test"), created=datetime.now(UTC),
        profiles=mode))
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            **XAPI}


@pytest.fixture
def profiled(settings: Settings) -> Settings:
    return with_metrics_token(settings.model_copy(update={"profiles": [str(DATA)]}))


def batch() -> tuple[dict[str, Any], dict[str, Any]]:
    good = video_statement(PAUSED_VERB, result=PAUSED, length=60.0)
    bad = cmi5_statement("completed", in_moveon=True, result={"completion": True})
    return good, bad


async def test_profiles_door_reject_answers_400_and_writes_nothing(
        profiled: Settings, storage: Storage) -> None:
    headers = await credential(storage, CheckMode.REJECT)
    good, bad = batch()
    async with app_client(profiled, storage, headers=headers) as client:
        response = await client.post("/xapi/statements", json=[good, bad])
        assert response.status_code == 400, response.text
        (problem,) = response.json()["error"]["problems"]
        assert problem["path"] == "$[1].result.duration"
        assert "must be included" in problem["message"]
        assert "https://w3id.org/xapi/cmi5#completed" in problem["message"]
        assert "rules[3] ($.result.duration)" in problem["message"]
        for sent in (good, bad):  # all or nothing: the good one is not kept either
            got = await client.get("/xapi/statements", params={"statementId": sent["id"]})
            assert got.status_code == 404
        fixed = {**bad, "result": COMPLETED}
        assert (await client.post("/xapi/statements", json=[good, fixed])).status_code == 200
        metrics = await scrape(client)
    assert ('lrs_profile_template_findings_total{action="rejected",'
            'profile="https://w3id.org/xapi/cmi5",'
            'template="https://w3id.org/xapi/cmi5#completed"} 1.0') in metrics


async def test_profiles_door_flag_accepts_and_counts(profiled: Settings,
                                                    storage: Storage) -> None:
    headers = await credential(storage, CheckMode.FLAG)
    good, bad = batch()
    async with app_client(profiled, storage, headers=headers) as client:
        assert (await client.post("/xapi/statements", json=[good, bad])).status_code == 200
        got = await client.get("/xapi/statements", params={"statementId": bad["id"]})
        assert got.status_code == 200
        metrics = await scrape(client)
    assert ('lrs_profile_template_findings_total{action="flagged",'
            'profile="https://w3id.org/xapi/cmi5",'
            'template="https://w3id.org/xapi/cmi5#completed"} 1.0') in metrics
    assert ('lrs_profile_template_matches_total{profile="https://w3id.org/xapi/video",'
            'template="https://w3id.org/xapi/video/templates#paused"} 1.0') in metrics


async def test_profiles_door_off_checks_nothing(profiled: Settings, storage: Storage) -> None:
    headers = await credential(storage, CheckMode.OFF)
    good, bad = batch()
    async with app_client(profiled, storage, headers=headers) as client:
        assert (await client.post("/xapi/statements", json=[good, bad])).status_code == 200
        metrics = await scrape(client)
    assert "lrs_profile_template_matches_total{" not in metrics


async def test_profiles_door_put_names_the_path_without_an_index(
        profiled: Settings, storage: Storage) -> None:
    headers = await credential(storage, CheckMode.REJECT)
    _, bad = batch()
    async with app_client(profiled, storage, headers=headers) as client:
        response = await client.put("/xapi/statements", params={"statementId": bad["id"]},
                                    json=bad)
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == "$.result.duration"


async def test_flagged_statements_marks_go_when_their_person_is_erased(
        profiled: Settings, storage: Storage) -> None:
    # A finding may quote a value the statement held: its marks go with the statement.
    headers = await credential(storage, CheckMode.FLAG)
    _, bad = batch()
    async with app_client(profiled, storage, headers=headers) as client:
        assert (await client.post("/xapi/statements", json=[bad])).status_code == 200
    assert list(await storage.marks.of([bad["id"]])) == [bad["id"]]
    key = agent_key(bad["actor"])
    assert key is not None
    report = await forget(storage, key, now_ms=int(time.time() * 1000), operator="dpo")
    assert report.done["statements_deleted"] == 1
    assert await storage.marks.of([bad["id"]]) == {}
