"""The console's pages as handlers: who is sent to sign in, who is refused, what the pages
send (a strict Content-Security-Policy, no inline script, the CSRF token), and the
navigation each person's roles allow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from lrs.config import Settings
from lrs.console.pages import PAGES, STATIC
from lrs.credentials import Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client

TEMPLATES = Path(STATIC).parent / "templates"
LEARNER_PAGES = ["/console/me", "/console/space", "/console/history", "/console/my-credentials",
                 "/console/objectives"]
ADMIN_PAGES = ["/console/credentials", "/console/catalogue", "/console/settings",
               "/console/audit", "/console/forwarding", "/console/quarantine",
               "/console/frameworks"]


@pytest.fixture
async def browser(settings: Settings, storage: Storage) -> AsyncIterator[Client]:
    """A cookie-keeping client on an app with dev sign-in (no Authorization header)."""
    dev = settings.model_copy(update={"dev_sign_in": True})
    async with app_client(dev, storage) as c:
        yield c


async def sign_in(c: Client, *roles: str, name: str = "Ada Lovelace",
                  email: str = "ada@example.com") -> None:
    """Through the dev sign-in form, with its CSRF token, as a browser does."""
    form = await c.get("/sign-in", params={"next": "/console"})
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
    assert token, form.text
    done = await c.post("/sign-in/dev", data={"csrftoken": token[1], "next": "/console",
                                              "name": name, "email": email,
                                              "role": list(roles)})
    assert done.status_code == 303, done.text


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Console">(.*?)</nav>', html, re.S)
    assert nav
    return re.findall(r'href="([^"]+)"', nav[1])


@pytest.mark.parametrize("path", [*(p.path for p in PAGES), "/console/compliance?x=1&y=2"])
async def test_console_page_signed_out_redirects_to_sign_in_with_next(
        browser: Client, path: str) -> None:
    response = await browser.get(path)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == {"next": [path]}


async def test_console_page_without_sign_in_configured_still_redirects(
        settings: Settings, storage: Storage) -> None:
    async with app_client(settings, storage) as c:  # no IdP, no dev mode: nobody signed in
        response = await c.get("/console/me")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fconsole%2Fme"


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_admin_page_for_an_analyst_is_403_saying_which_role(
        browser: Client, path: str) -> None:
    await sign_in(browser, "analyst")
    page = await browser.get(path)
    assert page.status_code == 403
    assert "text/html" in page.headers["content-type"]
    assert "needs the <strong>admin</strong> role" in page.text
    assert "<strong>analyst</strong>" in page.text
    assert "<script" not in page.text  # the page's script is not even sent
    # ...and the API behind the page refuses the session too.
    api = await browser.get("/api/v1/admin/credentials")
    assert api.status_code == 403 and "admin" in api.json()["error"]["message"]


MANAGER_PAGES = ["/console/shared"]


@pytest.mark.parametrize(("roles", "allowed", "refused"), [
    (("admin",), ADMIN_PAGES, ["/console/compliance", *LEARNER_PAGES, *MANAGER_PAGES]),
    (("compliance",), ["/console/compliance"], [*ADMIN_PAGES, *LEARNER_PAGES]),
    (("learner",), LEARNER_PAGES, [*ADMIN_PAGES, "/console/compliance", *MANAGER_PAGES]),
    (("analyst",), [], [*ADMIN_PAGES, "/console/compliance", *LEARNER_PAGES]),
    (("learner", "compliance"), [*LEARNER_PAGES, "/console/compliance"], ADMIN_PAGES),
    (("manager",), MANAGER_PAGES, [*ADMIN_PAGES, "/console/compliance", *LEARNER_PAGES]),
])
async def test_navigation_and_pages_follow_the_roles(
        browser: Client, roles: tuple[str, ...], allowed: list[str], refused: list[str]) -> None:
    await sign_in(browser, *roles)
    home = await browser.get("/console")
    assert home.status_code == 200
    links = nav_links(home.text)
    assert links[0] == "/console"
    assert set(links[1:]) == set(allowed) | ({"/dashboard"} if "analyst" in roles else set())
    for role in roles:
        assert f'id="role-{role}"' in home.text  # what the role lets them do
    for path in allowed:
        assert (await browser.get(path)).status_code == 200, path
    for path in refused:
        assert (await browser.get(path)).status_code == 403, path


async def test_home_of_a_person_without_a_role_says_so(browser: Client) -> None:
    await sign_in(browser, name="Nora Norole", email="nora@example.com")
    home = await browser.get("/console")
    assert home.status_code == 200
    assert nav_links(home.text) == ["/console"]
    assert "You hold no role in this LRS yet" in home.text
    assert "Nora Norole" in home.text


async def test_console_pages_send_a_strict_policy_and_the_csrf_token(browser: Client) -> None:
    await sign_in(browser, "admin", "compliance", "analyst", "learner", "manager")
    for page in PAGES:
        response = await browser.get(page.path)
        assert response.status_code == 200, page.path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["cache-control"] == "no-store"
        # No inline script or style: every <script> has a src, no style= or on…= attribute.
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), page.path
        assert not re.search(r"\s(style|on[a-z]+)=", response.text), page.path
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', response.text)
        assert token and f'name="csrftoken" value="{token[1]}"' in response.text
        if page.script:
            script = await browser.get(f"/console/static/{page.script}")
            assert script.status_code == 200 and "javascript" in script.headers["content-type"]


async def test_every_template_control_has_a_label() -> None:
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        ids = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in control or 'type="checkbox"' in control \
                    or 'type="radio"' in control:  # wrapped in their <label>
                continue
            found = re.search(r'\bid="([^"]+)"', control)
            assert found and found[1] in ids, (template.name, control)


async def test_a_signed_in_state_change_without_the_csrf_token_is_refused(
        browser: Client) -> None:
    await sign_in(browser, "admin")
    refused = await browser.post("/api/v1/admin/credentials",
                                 json={"name": "lms", "scopes": ["statements/write"],
                                       "retention": "full"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    page = await browser.get("/console/credentials")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert token
    created = await browser.post("/api/v1/admin/credentials",
                                 json={"name": "lms", "scopes": ["statements/write"],
                                       "retention": "full"},
                                 headers={"x-csrftoken": token[1]})
    assert created.status_code == 201, created.text


async def test_catalogue_is_readable_by_compliance_for_the_report_form(
        settings: Settings, storage: Storage) -> None:
    auth = await add_credential(storage, Scope.COMPLIANCE_READ)
    async with app_client(settings, storage, headers=auth) as c:
        assert (await c.get("/api/v1/catalogue")).status_code == 200
        refused = await c.post("/api/v1/catalogue", json={"version": 1, "entries": []})
        assert refused.status_code == 403


async def test_retention_api_says_what_is_kept_and_names_nobody(
        settings: Settings, storage: Storage) -> None:
    kept = settings.model_copy(update={"retention_default_days": 400,
                                       "retention_verb_days": {"http://v.test/viewed": 10}})
    auth = await add_credential(storage, Scope.STATEMENTS_READ_MINE, name="ada-portfolio")
    async with app_client(kept, storage, headers=auth) as c:
        entry = {"kind": "activity", "value": "https://lms.test/fire", "name": "Fire safety",
                 "retention_days": 2555}
        admin = await add_credential(storage, Scope.ADMIN)
        assert (await c.post("/api/v1/catalogue", json={"version": 1, "entries": [entry]},
                             headers=admin)).status_code == 200
        policy = (await c.get("/api/v1/retention")).json()
        assert (await c.get("/api/v1/retention", headers={"Authorization": ""})
                ).status_code == 401
    assert policy["default_days"] == 400
    assert policy["verb_days"] == {"http://v.test/viewed": 10}
    assert policy["catalogue"] == [entry]
    assert policy["tallied_statements_retrievable"] is False
    assert "ada-portfolio" not in str(policy)


async def test_aggregates_follow_the_session_role(browser: Client) -> None:
    await sign_in(browser, "analyst")
    assert (await browser.get("/api/v1/me")).json()["roles"] == ["analyst"]
    assert (await browser.get("/api/v1/aggregates/summary")).status_code == 200
    browser.cookies.clear()  # another person on a fresh browser
    await sign_in(browser, "learner")
    assert (await browser.get("/api/v1/aggregates/summary")).status_code == 403


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_console_text_colours_meet_wcag_aa_contrast() -> None:
    css = (STATIC / "console.css").read_text()
    colour = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))
    # (text, background) pairs the stylesheet uses for text, WCAG 2.x AA: 4.5:1.
    pairs = [("ink", "paper"), ("ink", "tint"), ("muted", "paper"), ("muted", "tint"),
             ("accent", "paper"), ("accent-dark", "paper"), ("accent-dark", "tint"),
             ("danger", "paper"), ("ok", "tint"), ("ok", "paper")]
    for text, background in pairs:
        ratio = _contrast(colour[text], colour[background])
        assert ratio >= 4.5, (text, background, round(ratio, 2))
    literal = [("#ffffff", colour["accent"]), ("#ffffff", colour["accent-dark"]),
               ("#ffffff", colour["danger"]), ("#7a1a12", "#fdecea"),  # the error box
               ("#7c2d12", colour["warn-bg"]), ("#ffffff", "#7a1a12")]  # secret, dev banner
    for text, background in literal:
        assert _contrast(text, background) >= 4.5, (text, background)
    used = {c for pair in literal for c in pair} - {"#ffffff"}  # white is written #fff
    assert all(c in css for c in used)  # the pairs checked are the stylesheet's own
