"""Dev sign-in (LRS_DEV_SIGN_IN): off by default, refused behind https, clearly marked, and a
real session like any other; the app driven in the test's event loop on real stores."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jwt
import pytest
from pydantic import SecretStr

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import Storage
from tests.conftest import add_credential, app_client


def token_of(html: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[str] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("type") != "hidden":
            self.inputs.append(named.get("id") or "")
        if tag == "label" and named.get("for"):
            self.labels.add(named["for"] or "")


@pytest.fixture
def dev(settings: Settings) -> Settings:
    return settings.model_copy(update={"dev_sign_in": True})


async def test_dev_sign_in_is_off_by_default(settings: Settings, storage: Storage) -> None:
    assert Settings().dev_sign_in is False
    async with app_client(settings, storage) as client:
        assert (await client.get("/sign-in")).status_code == 404
        assert (await client.post("/sign-in/dev", data={"name": "x"})).status_code == 404
        me = await client.get("/api/v1/me")
        assert me.status_code == 401 and "set-cookie" not in me.headers


def test_dev_sign_in_is_refused_behind_https() -> None:
    with pytest.raises(ValueError, match="LRS_DEV_SIGN_IN"):
        Settings(dev_sign_in=True, public_url="https://lrs.example.com")


def test_dev_sign_in_with_several_workers_needs_a_shared_secret() -> None:
    with pytest.raises(ValueError, match="LRS_SESSION_SECRET"):
        Settings(dev_sign_in=True, workers=2)
    assert Settings(dev_sign_in=True, workers=2, session_secret=SecretStr("s" * 32)).workers == 2


def test_oidc_issuer_needs_a_client_id_and_a_session_secret() -> None:
    with pytest.raises(ValueError, match="LRS_OIDC_CLIENT_ID and LRS_SESSION_SECRET"):
        Settings(oidc_issuer="https://idp.example.com")


async def test_dev_sign_in_form_is_marked_labelled_and_signs_in(dev: Settings,
                                                                storage: Storage) -> None:
    async with app_client(dev, storage) as client:
        page = await client.get("/sign-in", params={"next": "/api/v1/me"})
        assert page.status_code == 200 and "DEV SIGN-IN" in page.text
        labels = _Labels()
        labels.feed(page.text)
        assert labels.inputs and all(i in labels.labels for i in labels.inputs), labels.inputs
        signed = await client.post("/sign-in/dev", data={
            "csrftoken": token_of(page.text), "name": "Ada", "email": "ada@example.com",
            "role": ["learner", "compliance"], "next": "/api/v1/me"})
        assert signed.status_code == 303 and signed.headers["location"] == "/api/v1/me"
        me = (await client.get("/api/v1/me")).json()
        assert me["roles"] == ["compliance", "learner"]
        assert me["agent"]["mbox"] == "mailto:ada@example.com"
        report = await client.get("/api/v1/compliance/report",
                                  params={"activity": "https://lms.example.com/x"})
        assert report.status_code != 403  # the compliance role's scope
        failed = await client.get("/sign-in/callback")
        assert "DEV SIGN-IN" in failed.text  # every page it serves says so


async def test_dev_sign_in_gives_the_groups_and_the_manager_role(dev: Settings,
                                                                 storage: Storage) -> None:
    async with app_client(dev, storage) as client:
        page = await client.get("/sign-in")
        signed = await client.post("/sign-in/dev", data={
            "csrftoken": token_of(page.text), "name": "Grace", "email": "grace@example.com",
            "role": ["manager"], "groups": " sales-emea, , /eu/staff "})
        assert signed.status_code == 303
        me = (await client.get("/api/v1/me")).json()
        assert me["roles"] == ["manager"]
        # The default groups claim is also the roles claim: a role name is a group too.
        assert me["groups"] == ["/eu/staff", "manager", "sales-emea"]


async def test_dev_sign_in_form_needs_its_csrf_token(dev: Settings, storage: Storage) -> None:
    async with app_client(dev, storage) as client:
        # No cookie at all (a login-CSRF attempt from another site): refused all the same.
        refused = await client.post("/sign-in/dev", data={"name": "Mallory", "role": "admin"})
        assert refused.status_code == 403
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_dev_sign_in_form_errors_name_the_field(dev: Settings, storage: Storage) -> None:
    async with app_client(dev, storage) as client:
        page = await client.get("/sign-in")
        bad = await client.post("/sign-in/dev", data={
            "csrftoken": token_of(page.text), "name": "", "email": "no at sign",
            "role": "superuser"})
        assert bad.status_code == 400
        for message in ("name: required", "email: not an email address",
                        "role: unknown role &#x27;superuser&#x27;"):
            assert message in bad.text


async def test_basic_requests_are_untouched_by_sign_in(dev: Settings, storage: Storage) -> None:
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(dev, storage) as client:
        # A cookie of some other kind does not make a Basic POST need a CSRF token.
        response = await client.post("/xapi/statements", headers={
            **auth, "X-Experience-API-Version": "2.0.0", "Cookie": "csrftoken=x; other=1"},
            json={"actor": {"mbox": "mailto:a@example.com"},
                  "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                  "object": {"id": "https://lms.example.com/x"}})
        assert response.status_code == 200, response.text
        assert "set-cookie" not in response.headers


async def test_signed_in_post_with_a_malformed_multipart_type_is_400(
        dev: Settings, storage: Storage) -> None:
    async with app_client(dev, storage) as client:
        page = await client.get("/sign-in")
        await client.post("/sign-in/dev", data={"csrftoken": token_of(page.text),
                                                "name": "Ada", "role": "admin"})
        response = await client.post("/api/v1/catalogue", content=b"x",
                                     headers={"Content-Type": "multipart/form-data"})
        assert response.status_code == 400
        assert "boundary" in response.json()["error"]["message"]


async def test_unreachable_identity_provider_is_a_page_not_a_500(settings: Settings,
                                                                 storage: Storage) -> None:
    from tests.e2e.oidc import free_port

    down = settings.model_copy(update={
        "oidc_issuer": f"http://127.0.0.1:{free_port()}", "oidc_client_id": "lrs",
        "session_secret": SecretStr("s" * 32), "oidc_audience": "urn:lrs"})
    async with app_client(down, storage) as client:
        page = await client.get("/sign-in")
        assert page.status_code == 502 and "could not be reached" in page.text
        token = jwt.encode({"iss": down.oidc_issuer}, "k" * 32, headers={"kid": "k1"})
        bearer = await client.get("/xapi/statements", headers={
            "Authorization": f"Bearer {token}", "X-Experience-API-Version": "2.0.0"})
        assert bearer.status_code == 401
        assert "issuer's keys could not be read" in bearer.json()["error"]["message"]


async def test_session_cookie_is_secure_behind_https(settings: Settings,
                                                     storage: Storage) -> None:
    from tests.e2e.oidc import free_port

    https = settings.model_copy(update={
        "public_url": "https://lrs.example.com", "oidc_client_id": "lrs",
        "oidc_issuer": f"http://127.0.0.1:{free_port()}", "session_secret": SecretStr("s" * 32)})
    async with app_client(https, storage) as client:
        started = await client.get("/sign-in", params={"next": "/console/admin"})
        cookie = started.headers["set-cookie"].lower()
        assert cookie.startswith("lrs_session=")
        assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
