"""A person changing jobs: GET /api/v1/space/export on one LRS, POST /api/v1/space/import on
another (two apps, two stores), every credential verified on the way in; both engines."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import httpx2
import orjson
import pytest
from starlette.applications import Starlette

from lrs.app import create_app
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.objectives import Format, Framework, Objective, Outcome
from lrs.objectives.assessments import record_assessment
from lrs.people import Person, Role
from lrs.space import entry_ops
from lrs.space.entries import EntryInput, Reflection
from lrs.space.keys import owner_key
from lrs.storage import Storage, open_storage
from lrs.vc.imports import BLOB_KIND
from lrs.vc.verify import resolver, verify_credential
from tests.conftest import add_credential, store_url
from tests.factories import make_agent, make_statement
from tests.lrs.space.test_space_api import ENTRY, PASSPHRASE, signed_in
from tests.lrs.test_portfolio_api import learner_credential
from tests.lrs.vc.dcc import dcc_verify

OLD = {**make_agent("lea", mbox="mailto:lea@old-employer.example"), "name": "Lea Learner"}
NEW = {**make_agent("lea", mbox="mailto:lea@new-employer.example"), "name": "Lea Learner"}
MANAGER = Person(issuer="https://idp.old-employer.example", subject="max", name="Max Manager",
                 roles=frozenset({Role.MANAGER}),
                 agent={**make_agent("max", mbox="mailto:max@old-employer.example"),
                        "name": "Max Manager"})
OBJECTIVES = tuple(
    Objective(iri=f"https://case.example.org/uri/ssc-{n}", title=title, code=f"SSC.{n}",
              description=f"{title}, unaided, on a live site.")
    for n, title in enumerate(["Runs a site induction", "Leads a toolbox talk",
                               "Reports a near miss"], start=1))
FRAMEWORK = Framework(id="ssc", iri="https://case.example.org/uri/ssc", title="Site Safety",
                      format=Format.CASE, objectives=OBJECTIVES,
                      loaded=datetime(2026, 11, 1, tzinfo=UTC))


@asynccontextmanager
async def running(settings: Settings, storage: Storage) -> AsyncIterator[Starlette]:
    app = create_app(settings, storage=storage)
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: Starlette, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://lrs.test", headers=headers)


@pytest.fixture
async def other_storage(engine: str, tmp_path: Path, request: pytest.FixtureRequest
                        ) -> AsyncIterator[tuple[Settings, Storage]]:
    """A second LRS: its own data dir and its own store on the same engine."""
    (tmp_path / "b").mkdir()
    url, database = store_url(engine, tmp_path / "b", request)
    settings = Settings(data_dir=tmp_path / "b", store=url, mongodb_database=database)
    opened = await open_storage(settings)
    yield settings, opened
    await opened.close()


async def assessed_learner(app: Starlette, storage: Storage, *, sealed: bool = False
                           ) -> dict[str, str]:
    """Lea at her old employer: an entry of her space and a kept statement as evidence, two
    objectives met, one not yet; returns her credential's headers."""
    await storage.frameworks.put(FRAMEWORK)
    spaces = app.state.spaces
    await spaces.create(owner_key(OLD))
    entry = await entry_ops.record(spaces, owner_key(OLD), OLD, EntryInput(
        kind="experience", title="Night-shift induction", tags=["safety"],
        reflection=Reflection(happened="I inducted six contractors.",
                              learned="Start with the exits.", next="Shadow the site manager")),
        now=datetime(2026, 11, 10, tzinfo=UTC), limit=100)
    platform = await add_credential(storage, Scope.ALL)
    kept = make_statement(actor=OLD, object={
        "objectType": "Activity", "id": "https://old-employer.example/courses/first-aid",
        "definition": {"name": {"en": "First aid at work"}}},
        result={"response": "Passed the practical."})
    async with client_of(app, {**platform, "X-Experience-API-Version": "2.0.0"}) as c:
        response = await c.post("/xapi/statements", json=[kept])
        assert response.status_code == 200, response.text
    for objective, outcome in zip(OBJECTIVES, [Outcome.MET, Outcome.MET, Outcome.NOT_YET],
                                  strict=True):
        await record_assessment(app.state.ingest, learner=OLD, framework=FRAMEWORK,
                                objective=objective, outcome=outcome,
                                comment=f"Seen on site: {objective.title}.",
                                evidence=[entry.statement["id"], kept["id"]], manager=MANAGER)
    if sealed:
        await spaces.seal(owner_key(OLD), "a long enough passphrase")
    return await learner_credential(storage, OLD)


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


async def export_of(settings: Settings, storage: Storage) -> bytes:
    async with running(settings, storage) as app:
        headers = await assessed_learner(app, storage)
        async with client_of(app, headers) as c:
            response = await c.get("/api/v1/space/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


async def test_export_holds_a_badge_per_met_objective_a_clr_the_space_and_a_page(
    settings: Settings, storage: Storage
) -> None:
    files = members(await export_of(settings, storage))
    badges = sorted(n for n in files if n.startswith("credentials/badge-") and n.endswith(".json"))
    assert len(badges) == 2 and f"{badges[0][:-5]}.jwt" in files
    assert {"credentials/clr.json", "credentials/clr.jwt", "space.json", "record.html",
            "README.txt"} <= set(files)
    badge = orjson.loads(files[badges[0]])
    assert badge["issuer"] == {"id": badge["issuer"]["id"], "type": ["Profile"],
                               "name": "Tally LRS"}  # no url: public_url is not https
    assert badge["credentialSubject"]["id"] == "mailto:lea@old-employer.example"
    alignment = badge["credentialSubject"]["achievement"]["alignment"][0]
    assert alignment["targetUrl"] in {o.iri for o in OBJECTIVES[:2]}
    assert alignment["targetFramework"] == "Site Safety"
    assert alignment["targetCode"] in {"SSC.1", "SSC.2"}  # from the loaded CASE framework
    evidence = {e["name"]: e for e in badge["evidence"]}
    assert "I inducted six contractors." in evidence["Night-shift induction"]["narrative"]
    assert evidence["First aid at work"]["narrative"] == "Passed the practical."
    assert "Max Manager" in evidence["Assessment"]["narrative"]
    space = orjson.loads(files["space.json"])
    assert {a["outcome"] for a in space["assessments"]} == {"met", "not-yet"}
    (item,) = space["space"]
    assert item["kind"] == "entry" and item["content"]["title"] == "Night-shift induction"
    page = files["record.html"].decode()
    assert "Runs a site induction" in page and "Shadow the site manager" in page
    assert "<script" not in page
    for name in [*badges, "credentials/clr.json"]:
        verified = await verify_credential(orjson.loads(files[name]), resolver())
        assert verified.issuer.startswith("did:key:")
    assert dcc_verify(orjson.loads(files["credentials/clr.json"]))["verified"] is True


async def test_export_of_a_sealed_space_not_unlocked_is_409(
    settings: Settings, storage: Storage
) -> None:
    async with running(settings, storage) as app:
        headers = await assessed_learner(app, storage, sealed=True)
        async with client_of(app, headers) as c:
            response = await c.get("/api/v1/space/export")
    assert response.status_code == 409
    assert "unlock" in response.json()["error"]["message"]


async def test_export_and_list_are_the_learners_only(settings: Settings, storage: Storage
                                                     ) -> None:
    async with running(settings, storage) as app:
        writer = await add_credential(storage, Scope.STATEMENTS_WRITE)
        for path in ("/api/v1/space/export", "/api/v1/space/credentials"):
            async with client_of(app, writer) as c:
                assert (await c.get(path)).status_code == 403
            async with client_of(app) as c:
                assert (await c.get(path)).status_code == 401
        async with client_of(app, await learner_credential(storage, NEW)) as c:
            nothing = await c.get("/api/v1/space/credentials")
        assert nothing.status_code == 200 and nothing.json() == {"credentials": []}


async def test_import_on_another_lrs_verifies_and_keeps_the_credentials(
    settings: Settings, storage: Storage, other_storage: tuple[Settings, Storage]
) -> None:
    archive = await export_of(settings, storage)
    new_settings, new_storage = other_storage
    async with running(new_settings, new_storage) as app:
        headers = await learner_credential(new_storage, NEW)
        async with client_of(app, headers) as c:
            response = await c.post("/api/v1/space/import", content=archive,
                                    headers={"Content-Type": "application/zip"})
            assert response.status_code == 200, response.text
            imported = response.json()["imported"]
            assert sorted(i["type"][-1] for i in imported) == [
                "ClrCredential", "OpenBadgeCredential", "OpenBadgeCredential"]
            assert all(i["proofs"] == ["eddsa-rdfc-2022", "vc-jwt"] for i in imported)
            again = await c.post("/api/v1/space/import", content=archive,
                                 headers={"Content-Type": "application/zip"})
            assert again.status_code == 200
            listed = (await c.get("/api/v1/space/credentials")).json()["credentials"]
            assert sorted(i["id"] for i in listed) == sorted(i["id"] for i in imported)
            assert {i["issuer"] for i in listed} == {imported[0]["issuer"]}
        spaces = app.state.spaces
        key = await spaces.unlock(owner_key(NEW))
        kept = [orjson.loads(o.plaintext) for o in await spaces.read(key, BLOB_KIND)]
    assert len(kept) == 3  # the same archive twice: no copies
    for item in kept:
        await verify_credential(item["credential"], resolver())
        assert item["verification"]["issuer"].startswith("did:key:")


@pytest.mark.parametrize("tamper", ["badge", "clr", "jwt"])
async def test_import_refuses_a_tampered_credential_and_imports_nothing(
    settings: Settings, storage: Storage, other_storage: tuple[Settings, Storage], tamper: str
) -> None:
    files = members(await export_of(settings, storage))
    badge_name = sorted(n for n in files if n.startswith("credentials/badge-")
                        and n.endswith(".json"))[0]
    if tamper == "badge":
        badge = orjson.loads(files[badge_name])
        badge["credentialSubject"]["achievement"]["name"] = "Site director"
        files[badge_name] = orjson.dumps(badge)
        where = f"{badge_name}:$.proof.proofValue"
    elif tamper == "clr":
        clr = orjson.loads(files["credentials/clr.json"])
        clr["credentialSubject"]["verifiableCredential"][0]["validFrom"] = "2020-01-01T00:00:00Z"
        files["credentials/clr.json"] = orjson.dumps(clr)
        where = "credentials/clr.json:$.proof.proofValue"
    else:
        jwt_name = badge_name[:-5] + ".jwt"
        head, body, signature = files[jwt_name].decode().strip().split(".")
        files[jwt_name] = f"{head}.{body}.{signature[::-1]}".encode()
        where = f"{jwt_name}:$"
    new_settings, new_storage = other_storage
    async with running(new_settings, new_storage) as app:
        async with client_of(app, await learner_credential(new_storage, NEW)) as c:
            response = await c.post("/api/v1/space/import", content=rezip(files),
                                    headers={"Content-Type": "application/zip"})
        assert await app.state.spaces.record_of(owner_key(NEW)) is None
    assert response.status_code == 400, response.text
    problems = response.json()["error"]["problems"]
    assert where in [p["path"] for p in problems], problems


@pytest.mark.parametrize(("body", "content_type", "path"), [
    (b"not a zip", "application/zip", "$"),
    (rezip({"space.json": b"{}"}), "application/zip", "credentials/"),
    (rezip({"credentials/x.json": b"{"}), "application/zip", "credentials/x.json"),
    (b"{}", "application/json", "Content-Type"),
])
async def test_import_bad_input_is_a_4xx_naming_where(
    settings: Settings, storage: Storage, body: bytes, content_type: str, path: str
) -> None:
    headers = await learner_credential(storage, NEW)
    async with running(settings, storage) as app, client_of(app, headers) as c:
        response = await c.post("/api/v1/space/import", content=body,
                                headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert path in [p["path"] for p in response.json()["error"]["problems"]]


async def test_import_did_web_issuer_resolved_from_the_did_json_it_serves(
    settings: Settings, storage: Storage, other_storage: tuple[Settings, Storage]
) -> None:
    old = settings.model_copy(update={"vc_issuer_did": "did:web:lrs.old-employer.example"})
    async with running(old, storage) as old_app:
        headers = await assessed_learner(old_app, storage)
        async with client_of(old_app, headers) as c:
            archive = (await c.get("/api/v1/space/export")).content
            served = await c.get("/.well-known/did.json")
        assert served.status_code == 200
        assert served.json()["id"] == "did:web:lrs.old-employer.example"
        new_settings, new_storage = other_storage
        async with running(new_settings, new_storage) as app:
            # The new LRS fetches https://lrs.old-employer.example/.well-known/did.json:
            # here from the old app itself, over ASGI.
            app.state.vc_did_client = httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=old_app))
            try:
                async with client_of(app, await learner_credential(new_storage, NEW)) as c:
                    ok = await c.post("/api/v1/space/import", content=archive,
                                      headers={"Content-Type": "application/zip"})
                assert ok.status_code == 200, ok.text
                assert {i["issuer"] for i in ok.json()["imported"]} == {
                    "did:web:lrs.old-employer.example"}
            finally:
                await app.state.vc_did_client.aclose()


async def test_did_json_is_not_served_for_a_did_key(settings: Settings, storage: Storage) -> None:
    async with running(settings, storage) as app, client_of(app) as c:
        response = await c.get("/.well-known/did.json")
    assert response.status_code == 404
    assert "did:key" in response.json()["error"]["message"]


async def test_signed_in_learner_exports_an_unlocked_sealed_space_and_imports(
    settings: Settings, storage: Storage
) -> None:
    async with signed_in(settings, storage) as ada:
        made = await ada.call("POST", "/entries", json=ENTRY)
        assert made.status_code == 201, made.text
        sealed = await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
        assert sealed.status_code == 200, sealed.text  # and unlocked in this session
        exported = await ada.call("GET", "/export")
        assert exported.status_code == 200, exported.text
        space = orjson.loads(members(exported.content)["space.json"])
        assert [i["content"]["title"] for i in space["space"]] == [ENTRY["title"]]
        assert (await ada.call("POST", "/lock")).status_code in (200, 204)
        assert (await ada.call("GET", "/export")).status_code == 409
        # No assessment, so no credential: the import says there is none to take.
        refused = await ada.call("POST", "/import", content=exported.content,
                                 headers={"Content-Type": "application/zip"})
        assert refused.status_code == 400
        assert "credentials/" in [p["path"] for p in refused.json()["error"]["problems"]]
