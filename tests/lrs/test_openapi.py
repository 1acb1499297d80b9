"""The OpenAPI document of /api/v1 (lrs/api/openapi.py): a valid OpenAPI 3.1 document that
names every route the app mounts under /api/v1 and no other, and whose security and answer
schemas are true of the app, checked by a signed-in person on real stores."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import schemathesis
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from lrs.api.openapi import DOCUMENT
from lrs.app import create_app
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.people import Role
from lrs.people.csrf import CSRF_HEADER
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client
from tests.lrs.people.test_dev_sign_in import token_of

ACTIVITY = "http://example.com/activities/a"
_REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:api-v1", Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))


def _documented() -> set[tuple[str, str]]:
    return {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}


def _mounted(app: Starlette) -> set[tuple[str, str]]:
    """(path, method) of every route the app serves under /api/v1, in OpenAPI's spelling."""
    mounts = [r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1"]
    assert len(mounts) == 1, app.routes
    found = set()
    for route in mounts[0].routes:
        assert isinstance(route, Route), f"walk {route!r} too"
        # Starlette's `{ref:path}` is OpenAPI's `{ref}`; HEAD comes with every GET.
        path = "/api/v1" + re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        found |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
    return found


def test_every_route_under_api_v1_is_documented_and_nothing_else(tmp_path: Path) -> None:
    # With sign-in on, so that any route sign-in mounts is there too.
    app = create_app(Settings(data_dir=tmp_path, dev_sign_in=True))
    mounted, documented = _mounted(app), _documented()
    assert mounted - documented == set(), "routed but missing from lrs/api/openapi.py"
    assert documented - mounted == set(), "in lrs/api/openapi.py but not routed"


def test_document_is_valid_openapi_3_1_and_names_only_its_schemes() -> None:
    schemathesis.openapi.from_dict(DOCUMENT).validate()  # raises on an invalid document
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer",
                                 "bearerFormat": "JWT"}
    assert schemes["session"]["in"] == "cookie" and CSRF_HEADER in \
        schemes["session"]["description"]
    for path, method in _documented():
        for requirement in DOCUMENT["paths"][path][method]["security"]:
            assert set(requirement) <= set(schemes), (path, method, requirement)


def _check(answer: Any, path: str, method: str) -> None:
    """The status is one the document gives, and a JSON answer has its documented shape."""
    responses = DOCUMENT["paths"][path][method]["responses"]
    status = str(answer.status_code)
    assert status in responses, (method, path, status, answer.text)
    if "application/json" not in responses[status].get("content", {}) \
            or not answer.headers.get("content-type", "").startswith("application/json"):
        return
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in (
        "paths", path, method, "responses", status, "content", "application/json", "schema"))
    Draft202012Validator({"$ref": f"urn:api-v1#/{pointer}"}, registry=_REGISTRY,
                         format_checker=FormatChecker()).validate(answer.json())


async def _sign_in_with_every_role(client: Client) -> str:
    form = await client.get("/sign-in")
    signed = await client.post("/sign-in/dev", data={
        "csrftoken": token_of(form.text), "name": "Ada", "email": "ada@example.com",
        "role": [role.value for role in Role], "next": "/api/v1/me"})
    assert signed.status_code == 303, signed.text
    me = await client.get("/api/v1/me")
    _check(me, "/api/v1/me", "get")
    assert me.status_code == 200 and me.headers["cache-control"] == "no-store"
    token: str = me.json()["csrf_token"]
    return token


async def test_the_session_is_let_in_exactly_where_the_document_lists_it(
        settings: Settings, storage: Storage) -> None:
    dev = settings.model_copy(update={"dev_sign_in": True})
    async with app_client(dev, storage) as client:
        nobody = await client.get("/api/v1/me")
        _check(nobody, "/api/v1/me", "get")
        assert nobody.status_code == 401
        token = await _sign_in_with_every_role(client)
        for path, method in sorted(_documented()):
            security = DOCUMENT["paths"][path][method]["security"]
            # One activity, which is all the beacon needs: it must refuse the session itself.
            answer = await client.request(
                method, path.replace("{ref}", "nobody"),
                params={"activity": ACTIVITY} if method == "get" else None,
                json={"activity": ACTIVITY} if method == "post" else None,
                headers={CSRF_HEADER: token})
            if {"session": []} in security or security == []:
                # Every role's scopes: nothing is forbidden, and the CSRF token is enough.
                assert answer.status_code not in (401, 403), (method, path, answer.text)
            else:  # the beacon reads Basic credentials or an Origin, never the session
                assert answer.status_code == 401, (method, path, answer.text)
            _check(answer, path, method)
        # What the session scheme says: without the token, a state-changing request is refused.
        refused = await client.post("/api/v1/admin/purge", params={"dry_run": "true"})
        assert refused.status_code == 403 and CSRF_HEADER in refused.json()["error"]["message"]
        _check(refused, "/api/v1/admin/purge", "post")


async def test_me_is_no_one_for_a_credential(settings: Settings, storage: Storage) -> None:
    dev = settings.model_copy(update={"dev_sign_in": True})
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(dev, storage, headers=auth) as client:
        me = await client.get("/api/v1/me")
        assert me.status_code == 401 and "sign in" in me.json()["error"]["message"]
        _check(me, "/api/v1/me", "get")
        _check(await client.get("/api/v1/retention"), "/api/v1/retention", "get")
