"""The manager's side and share links over HTTP (lrs/api/sharing.py), on each engine's real
store: a manager sees only what was granted to them, every read is logged for the learner,
revocation and expiry end access, and a share link's page opens only between its dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from lrs.sharing import sources
from lrs.sharing.grants import Sharing, Who, identity_of
from lrs.storage import Storage
from tests.lrs.sharing.conftest import SignIn, problems

OBJECTIVE = ("https://case.example/items/incidents", "Handles incidents")
REFLECTION = "I rerouted the pager rota at three in the morning"
SNAPSHOT = {"objective": {"iri": OBJECTIVE[0], "title": OBJECTIVE[1]}, "learner": "Ada",
            "rating": {"level": 3, "label": "Competent", "note": "most nights",
                       "at": "2026-03-01T12:00:00+00:00"}, "ratings": [],
            "evidence": [{"kind": "entry", "ref": "e1", "title": "Night shift", "when": None,
                          "text": [{"label": "What happened", "value": REFLECTION}]}]}


def who(email: str, name: str) -> Who:
    agent = {"objectType": "Agent", "name": name, "mbox": f"mailto:{email}"}
    identity = identity_of(agent)
    assert identity is not None
    return Who(identity, agent, name)


ADA = who("ada@example.com", "Ada Lovelace")
MAL = {"objectType": "Agent", "mbox": "mailto:mal@example.com"}


def sharing_of(app: Starlette, storage: Storage, *, days_ago: int = 0) -> Sharing:
    """Sharing as the app makes it (the same store and envelope key), its clock moved back."""
    def clock() -> datetime:
        return datetime.now(UTC) - timedelta(days=days_ago)

    return Sharing(storage.grants, sources.envelope(app.state.settings, storage.engine), clock)


async def test_manager_sees_and_reads_only_what_was_granted_to_them(
        app: Starlette, storage: Storage, sign_in: SignIn) -> None:
    grant = await sharing_of(app, storage).grant(
        ADA, OBJECTIVE, SNAPSHOT, grantee=MAL, label="mal@example.com",
        expires=datetime.now(UTC) + timedelta(days=3))
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    max_ = await sign_in("manager", name="Max Other", email="max@example.com")
    listed = await mal.get("/api/v1/shared")
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    assert [(g["id"], g["learner"], g["objective_title"]) for g in listed.json()] == [
        (grant.id, "Ada Lovelace", "Handles incidents")]
    assert (await max_.get("/api/v1/shared")).json() == []
    read = await mal.get(f"/api/v1/shared/{grant.id}")
    assert read.status_code == 200 and read.headers["cache-control"] == "no-store"
    assert read.json()["evidence"] == SNAPSHOT
    refused = await max_.get(f"/api/v1/shared/{grant.id}")
    assert refused.status_code == 404
    assert (await mal.get("/api/v1/shared/no-such-grant")).status_code == 404
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com")
    log = (await ada.get("/api/v1/grants")).json()
    assert [(r["reader"], r["what"]) for r in log["reads"]] == [
        ("Mal Manager (mal@example.com)", "evidence of 'Handles incidents' (1 item)")]
    assert [(g["grantee"], g["state"], g["kind"]) for g in log["grants"]] == [
        ("mal@example.com", "live", "person")]
    assert "wrapped_key" not in log["grants"][0] and "sealed" not in log["grants"][0]


async def test_revoked_grant_is_403_for_its_manager_and_gone_from_the_list(
        app: Starlette, storage: Storage, sign_in: SignIn) -> None:
    grant = await sharing_of(app, storage).grant(
        ADA, OBJECTIVE, SNAPSHOT, grantee=MAL, label="mal@example.com",
        expires=datetime.now(UTC) + timedelta(days=3))
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    bob = await sign_in("learner", name="Bob", email="bob@example.com")
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com")
    assert (await bob.delete(f"/api/v1/grants/{grant.id}")).status_code == 404  # not his
    assert (await ada.delete(f"/api/v1/grants/{grant.id}")).status_code == 204
    again = await ada.delete(f"/api/v1/grants/{grant.id}")
    assert again.status_code == 400 and "revoked already" in again.json()["error"]["message"]
    gone = await mal.get(f"/api/v1/shared/{grant.id}")
    assert gone.status_code == 403 and "revoked" in gone.json()["error"]["message"]
    assessed = await mal.post(f"/api/v1/shared/{grant.id}/assessment",
                              json={"outcome": "met"})
    assert assessed.status_code == 403
    assert (await mal.get("/api/v1/shared")).json() == []
    [listed] = (await ada.get("/api/v1/grants")).json()["grants"]
    assert listed["state"] == "revoked" and listed["revoked"] is not None
    kept = await storage.grants.get(grant.id)
    assert kept is not None and kept.wrapped_key is None and kept.sealed is None


async def test_expired_grant_is_403_and_its_key_destroyed(
        app: Starlette, storage: Storage, sign_in: SignIn) -> None:
    # Granted two days ago for one day.
    grant = await sharing_of(app, storage, days_ago=2).grant(
        ADA, OBJECTIVE, SNAPSHOT, grantee=MAL, label="mal@example.com",
        expires=datetime.now(UTC) - timedelta(days=1))
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    assert (await mal.get("/api/v1/shared")).json() == []
    expired = await mal.get(f"/api/v1/shared/{grant.id}")
    assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]
    kept = await storage.grants.get(grant.id)
    assert kept is not None and kept.wrapped_key is None and kept.sealed is None


async def test_share_link_page_opens_between_its_dates_only(
        app: Starlette, storage: Storage, sign_in: SignIn) -> None:
    now = datetime.now(UTC)
    sharing = sharing_of(app, storage)
    live, token = await sharing.link(ADA, OBJECTIVE, SNAPSHOT, label="Promotion panel",
                                     starts=now - timedelta(hours=1),
                                     ends=now + timedelta(days=1))
    _, later = await sharing.link(ADA, OBJECTIVE, SNAPSHOT, label="Next year",
                                  starts=now + timedelta(days=2), ends=now + timedelta(days=3))
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com")
    page = await ada.get(f"/share/{token}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert REFLECTION in page.text and "Handles incidents" in page.text
    assert "3 of 4: Competent" in page.text
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    early = await ada.get(f"/share/{later}")
    assert early.status_code == 403 and "start date" in early.text
    assert REFLECTION not in early.text
    assert (await ada.get(f"/share/{token}x")).status_code == 404
    log = (await ada.get("/api/v1/grants")).json()
    assert [r["reader"] for r in log["reads"]] == ["share link 'Promotion panel'"]
    assert (await ada.delete(f"/api/v1/grants/{live.id}")).status_code == 204
    revoked = await ada.get(f"/share/{token}")
    assert revoked.status_code == 403 and REFLECTION not in revoked.text


async def test_each_side_needs_its_role_and_a_session(
        app: Starlette, sign_in: SignIn) -> None:
    nobody = await sign_in(name="Nora", email="nora@example.com")
    learner = await sign_in("learner", name="Ada Lovelace", email="ada@example.com")
    manager = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    for path in ("/api/v1/evidence", "/api/v1/grants"):
        refused = await manager.get(path)
        assert refused.status_code == 403 and "learner" in refused.json()["error"]["message"]
        assert (await nobody.get(path)).status_code == 403
    refused = await learner.get("/api/v1/shared")
    assert refused.status_code == 403 and "manager" in refused.json()["error"]["message"]
    nobody.cookies.clear()
    assert (await nobody.get("/api/v1/shared")).status_code == 401


@pytest.mark.parametrize(("path", "body", "paths"), [
    ("/api/v1/grants", {}, ["$.objective", "$.grantee", "$.expires"]),
    ("/api/v1/grants", [], ["$"]),
    ("/api/v1/grants", {"objective": OBJECTIVE[0], "grantee": "mal@example.com",
                        "expires": None}, ["$.expires"]),
    ("/api/v1/grants", {"objective": OBJECTIVE[0], "grantee": "mal@example.com",
                        "expires": "next week"}, ["$.expires"]),
    ("/api/v1/grants", {"objective": OBJECTIVE[0], "grantee": "mal@example.com",
                        "expires": "2030-01-01T00:00:00"}, ["$.expires"]),  # no zone
    ("/api/v1/grants", {"objective": OBJECTIVE[0], "grantee": "not an email",
                        "expires": "2030-01-01T00:00:00Z"}, ["$.grantee"]),
    ("/api/v1/grants", {"objective": OBJECTIVE[0], "grantee": "mal@example.com",
                        "expires": "2030-01-01T00:00:00Z"}, ["$.objective"]),  # not assigned
    ("/api/v1/grants/links", {"objective": OBJECTIVE[0], "label": "",
                              "starts": "2030-01-01T00:00:00Z",
                              "ends": "2030-01-02T00:00:00Z"}, ["$.label"]),
    ("/api/v1/evidence/links", {"objective": OBJECTIVE[0], "kind": "photo", "ref": "x"},
     ["$.kind"]),
    ("/api/v1/evidence/links", {"objective": OBJECTIVE[0], "kind": "entry", "ref": "x"},
     ["$.objective"]),
    ("/api/v1/evidence/ratings", {"objective": OBJECTIVE[0], "level": 7}, ["$.level"]),
    ("/api/v1/evidence/ratings", {"objective": OBJECTIVE[0], "level": 2, "x": 1}, ["$.x"]),
])
async def test_learner_bodies_refused_name_their_json_paths(
        sign_in: SignIn, path: str, body: object, paths: list[str]) -> None:
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com")
    answer = await ada.post(path, json=body)
    assert answer.status_code == 400, answer.text
    assert problems(answer) == paths


async def test_assessment_body_refused_names_its_json_path(
        app: Starlette, storage: Storage, sign_in: SignIn) -> None:
    grant = await sharing_of(app, storage).grant(
        ADA, OBJECTIVE, SNAPSHOT, grantee=MAL, label="mal@example.com",
        expires=datetime.now(UTC) + timedelta(days=3))
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    answer = await mal.post(f"/api/v1/shared/{grant.id}/assessment",
                            json={"outcome": "passed", "comment": 3})
    assert answer.status_code == 400 and problems(answer) == ["$.outcome", "$.comment"]
    not_json = await mal.post(f"/api/v1/shared/{grant.id}/assessment", content=b"{")
    assert not_json.status_code == 400
    assert (await storage.grants.reads(ADA.identity)) == []  # nothing was read
