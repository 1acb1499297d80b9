"""End to end: people sign in at a real OpenID provider (oidc-provider, run by Node) into a
real `lrs serve`, over sockets: roles, the learner's own record, open redirects, CSRF,
expiry, tampered cookies, sign-out."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.oidc import (
    ACCOUNTS,
    OidcProvider,
    SignInLrs,
    csrf_of,
    forms_of,
    serve_with_sign_in,
    sign_in,
    signed_in_client,
    tamper,
    through_provider_forms,
)
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
VERSION = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    """One LRS (SQLite) signing people in at the session's provider."""
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("lrs")) as running:
        yield running


@pytest.mark.parametrize("login", sorted(ACCOUNTS))
def test_sign_in_each_account_gets_its_roles_and_agent(lrs: SignInLrs, login: str) -> None:
    with httpx.Client(follow_redirects=True) as client:
        response = sign_in(client, lrs.url, login)
        assert response.url == f"{lrs.url}/api/v1/me"
        me = response.json()
        assert me["subject"] == login
        assert me["roles"] == ACCOUNTS[login]["roles"]  # unmapped groups are ignored
        if "groups" in ACCOUNTS[login]:  # the groups claim, whole (LRS_OIDC_GROUPS_CLAIM)
            assert me["groups"] == ACCOUNTS[login]["groups"]
        assert me["agent"]["mbox"] == f"mailto:{ACCOUNTS[login]['email']}"
        assert me["name"] and me["agent"]["name"] == me["name"]
        cookie = next(c for c in client.cookies.jar if c.name == "lrs_session")
        assert cookie.has_nonstandard_attr("httponly")


def test_sign_in_cookie_is_http_only_lax_and_not_secure_over_http(lrs: SignInLrs) -> None:
    with httpx.Client() as client:
        started = client.get(f"{lrs.url}/sign-in")
        assert started.status_code == 302
        assert started.headers["location"].startswith(lrs.provider.issuer + "/auth?")
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
        assert query["state"] and query["nonce"]
        set_cookie = started.headers["set-cookie"].lower()
        assert "lrs_session=" in set_cookie and "httponly" in set_cookie
        assert "samesite=lax" in set_cookie and "secure" not in set_cookie


def test_me_without_a_session_is_401(lrs: SignInLrs) -> None:
    response = httpx.get(f"{lrs.url}/api/v1/me")
    assert response.status_code == 401
    assert "not signed in" in response.json()["error"]["message"]


def test_learner_reads_only_their_own_statements(lrs: SignInLrs) -> None:
    mine = make_statement(actor={"objectType": "Agent", "mbox": "mailto:ada@example.com"})
    theirs = make_statement(actor={"objectType": "Agent", "mbox": "mailto:bob@example.com"})
    posted = httpx.post(f"{lrs.url}/xapi/statements", json=[mine, theirs], auth=lrs.basic,
                        headers=VERSION)
    assert posted.status_code == 200, posted.text
    with signed_in_client(lrs.url, "ada") as ada:
        page = ada.get(f"{lrs.url}/xapi/statements", headers=VERSION)
        assert page.status_code == 200, page.text
        ids = [s["id"] for s in page.json()["statements"]]
        assert mine["id"] in ids and theirs["id"] not in ids
        one = ada.get(f"{lrs.url}/xapi/statements", params={"statementId": theirs["id"]},
                      headers=VERSION)
        assert one.status_code == 404
        portfolio = ada.get(f"{lrs.url}/api/v1/portfolio", params={"format": "json"})
        assert [s["id"] for s in portfolio.json()] == [mine["id"]]


def test_role_scopes_are_enforced(lrs: SignInLrs) -> None:
    with signed_in_client(lrs.url, "analyst") as analyst:
        refused = analyst.get(f"{lrs.url}/api/v1/compliance/report",
                              params={"activity": "https://lms.example.com/x"})
        assert refused.status_code == 403, refused.text
        assert analyst.get(f"{lrs.url}/api/v1/aggregates/popular").status_code != 403
    with signed_in_client(lrs.url, "compliance") as officer:
        token = {"x-csrftoken": csrf_of(officer)}
        refused = officer.post(f"{lrs.url}/api/v1/catalogue", headers=token, json={
            "version": 1, "entries": [{"kind": "prefix", "value": "https://lms.example.com/x"}]})
        assert refused.status_code == 403, refused.text
        assert "lacks the scope" in refused.json()["error"]["message"]


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example",
                                    "/\\evil.example", "http:/evil.example", "evil.example",
                                    "/%2F%2Fevil.example"])
def test_sign_in_next_never_leaves_the_site(lrs: SignInLrs, target: str) -> None:
    with httpx.Client(follow_redirects=True) as client:
        started = client.get(f"{lrs.url}/sign-in", params={"next": target})
        landed = through_provider_forms(client, started, "admin")
        first_hop = next(r for r in landed.history if r.url.path == "/sign-in/callback")
        location = first_hop.headers["location"]
        if target == "/%2F%2Fevil.example":  # a path on this site, still relative
            assert location == target
        else:
            assert location == "/console"


def test_sign_in_next_same_site_path_is_kept(lrs: SignInLrs) -> None:
    with httpx.Client(follow_redirects=True) as client:
        landed = sign_in(client, lrs.url, "ada", next_path="/api/v1/me?x=1")
        assert landed.url == f"{lrs.url}/api/v1/me?x=1"


def test_cookie_post_without_csrf_token_is_refused_basic_still_works(lrs: SignInLrs) -> None:
    entry = {"version": 1,
             "entries": [{"kind": "prefix", "value": f"https://lms.example.com/{uuid.uuid4()}"}]}
    with signed_in_client(lrs.url, "admin") as admin:
        refused = admin.post(f"{lrs.url}/api/v1/catalogue", json=entry)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["error"]["message"]
        assert admin.get(f"{lrs.url}/api/v1/me").json()["csrf_token"] == csrf_of(admin)
        accepted = admin.post(f"{lrs.url}/api/v1/catalogue", json=entry,
                              headers={"x-csrftoken": csrf_of(admin)})
        assert accepted.status_code == 200, accepted.text
        forged = admin.post(f"{lrs.url}/api/v1/catalogue", json=entry,
                            headers={"x-csrftoken": "forged." + csrf_of(admin)})
        assert forged.status_code == 403
    # A platform (Basic, no cookie) is not asked for any token, on xAPI or /api/v1.
    statement = make_statement()
    posted = httpx.post(f"{lrs.url}/xapi/statements", json=statement, auth=lrs.basic,
                        headers=VERSION)
    assert posted.status_code == 200, posted.text
    assert httpx.post(f"{lrs.url}/api/v1/catalogue", json=entry,
                      auth=lrs.basic).status_code == 200
    # xAPI's alternate request syntax (a form POST) too (Communication §1.3).
    alternate = httpx.post(f"{lrs.url}/xapi/statements", params={"method": "GET"},
                           data={"X-Experience-API-Version": "1.0.3",
                                 "Authorization": httpx.BasicAuth(*lrs.basic)._auth_header})
    assert alternate.status_code == 200, alternate.text


def test_tampered_session_cookie_is_not_signed_in(lrs: SignInLrs) -> None:
    with signed_in_client(lrs.url, "admin") as admin:
        cookie = admin.cookies["lrs_session"]
        assert admin.get(f"{lrs.url}/api/v1/me").status_code == 200
    bad = httpx.get(f"{lrs.url}/api/v1/me", cookies={"lrs_session": tamper(cookie)})
    assert bad.status_code == 401
    assert httpx.get(f"{lrs.url}/api/v1/me", cookies={"lrs_session": cookie}).status_code == 200


def test_sign_out_ends_the_session_everywhere_and_at_the_provider(lrs: SignInLrs) -> None:
    with signed_in_client(lrs.url, "compliance") as officer:
        cookie = officer.cookies["lrs_session"]
        token = csrf_of(officer)
        out = officer.post(f"{lrs.url}/sign-out", data={"csrftoken": token},
                           follow_redirects=False)
        assert out.status_code == 303
        end_session = urlsplit(out.headers["location"])
        assert f"{end_session.scheme}://{end_session.netloc}" == lrs.provider.issuer
        query = parse_qs(end_session.query)
        assert query["id_token_hint"] and query["post_logout_redirect_uri"] == [
            f"{lrs.url}/signed-out"]
        assert "lrs_session=null" in out.headers["set-cookie"]
        # The provider asks to confirm; yes: it sends the browser back to /signed-out.
        confirm = officer.get(out.headers["location"])
        form = forms_of(confirm.text)[0]
        back = officer.post(f"{lrs.provider.issuer}{form['action']}" if form["action"]
                            .startswith("/") else form["action"],
                            data={**form["fields"], "logout": "yes"})
        assert back.url.path == "/signed-out" and back.status_code == 200
        assert officer.get(f"{lrs.url}/api/v1/me").status_code == 401
    # The old cookie, replayed, signs nobody in: the record it named is gone.
    assert httpx.get(f"{lrs.url}/api/v1/me", cookies={"lrs_session": cookie}).status_code == 401


def test_sign_out_without_csrf_token_is_refused(lrs: SignInLrs) -> None:
    with signed_in_client(lrs.url, "ada") as ada:
        assert ada.post(f"{lrs.url}/sign-out", follow_redirects=False).status_code == 403
        assert ada.get(f"{lrs.url}/api/v1/me").status_code == 200


def test_provider_error_and_bad_state_give_a_page_not_a_500(lrs: SignInLrs) -> None:
    with httpx.Client(follow_redirects=True) as client:
        client.get(f"{lrs.url}/sign-in")  # a flow started, then answered with an error
        denied = client.get(f"{lrs.url}/sign-in/callback",
                            params={"error": "access_denied", "error_description": "no",
                                    "state": "whatever"})
        assert denied.status_code == 400 and "access_denied" in denied.text
        forged = client.get(f"{lrs.url}/sign-in/callback",
                            params={"code": "stolen", "state": "not-this-browser"})
        assert forged.status_code == 400 and "state" in forged.text
        assert "text/html" in forged.headers["content-type"]


def test_session_idle_and_absolute_expiry(oidc_provider: OidcProvider, tmp_path: Path) -> None:
    idle_s, lifetime_s = 3.0, 8.0
    short = {"LRS_SESSION_IDLE_SECONDS": f"{idle_s:g}",
             "LRS_SESSION_LIFETIME_SECONDS": f"{lifetime_s:g}"}
    with serve_with_sign_in(oidc_provider, tmp_path, extra_env=short) as running:
        me = f"{running.url}/api/v1/me"
        with signed_in_client(running.url, "ada") as idle:
            time.sleep(idle_s + 0.6)
            assert idle.get(me).status_code == 401
        # The session is created between `before` and `after`: alive until at least
        # before + lifetime, gone by after + lifetime. Margins allow for a loaded machine.
        before = time.monotonic()
        with signed_in_client(running.url, "bob") as busy:
            after = time.monotonic()
            while time.monotonic() < before + lifetime_s - 1.5:  # in use, past the idle
                assert busy.get(me).status_code == 200          # timeout: never expired
                time.sleep(0.4)
            while time.monotonic() < after + lifetime_s + 0.5:  # still in use, never idle
                busy.get(me)
                time.sleep(0.4)
            assert busy.get(me).status_code == 401  # past the absolute lifetime, however busy


def test_sign_in_and_out_on_each_engine(oidc_provider: OidcProvider, settings: Settings,
                                        tmp_path: Path) -> None:
    with serve_with_sign_in(oidc_provider, tmp_path, store=settings.store_url(),
                            mongodb_database=settings.mongodb_database) as running, \
            signed_in_client(running.url, "multi") as multi:
        assert multi.get(f"{running.url}/api/v1/me").json()["roles"] == [
            "admin", "analyst", "compliance", "learner"]
        multi.post(f"{running.url}/sign-out", data={"csrftoken": csrf_of(multi)},
                   follow_redirects=False)
        assert multi.get(f"{running.url}/api/v1/me").status_code == 401
