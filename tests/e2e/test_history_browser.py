"""End to end: My own history in a real headless Chromium against a real `lrs serve`, the
learner signed in through the real OpenID provider (tests/oidc): they seal their space, opt
in on the "My history" page, a platform's tallied statements are copied at the door, the
admin's flush puts them in the space, the learner reads them there, and the dashboard's
figures are the same as before the flush, with nothing of the learner in them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
VERSION = {"X-Experience-API-Version": "2.0.0"}
PASSPHRASE = "a passphrase nobody guesses"
VIEWED = "http://id.tincanapi.com/verb/viewed"
PAGES = ["https://intranet.example.com/pages/holidays", "https://intranet.example.com/pages/news"]


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("history")) as running:
        yield running


def intranet(lrs: SignInLrs) -> tuple[str, str]:
    """A platform credential whose statements are tallied (made through the admin API)."""
    made = httpx.post(f"{lrs.url}/api/v1/admin/credentials", auth=lrs.basic, json={
        "name": f"intranet-{uuid.uuid4().hex[:6]}", "scopes": ["statements/write"],
        "retention": "tally"})
    assert made.status_code == 201, made.text
    return made.json()["key"], made.json()["secret"]


def viewed(email: str, page: str) -> dict[str, Any]:
    return {"actor": {"mbox": f"mailto:{email}", "name": email.split("@")[0]},
            "verb": {"id": VIEWED, "display": {"en": "viewed"}},
            "object": {"id": page, "definition": {"name": {"en": page.rsplit("/", 1)[1]}}},
            "context": {"platform": "intranet"}}


def figures(lrs: SignInLrs) -> list[Any]:
    """What the dashboard reads: popular by hits and by learners, and the summary."""
    out = []
    for path, params in (("popular", {"by": "hits"}), ("popular", {"by": "learners"}),
                         ("summary", {})):
        answer = httpx.get(f"{lrs.url}/api/v1/aggregates/{path}", params=params,
                           auth=lrs.basic)
        assert answer.status_code == 200, answer.text
        out.append(answer.json())
    return out


def rows(page: Any, table: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"#{table} tbody tr", "trs => trs.map(tr => tr.innerText)")
    return texts


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(viewport={"width": 1280, "height": 800}) as context:
        yield context


def test_learner_keeps_their_history_and_reads_it_after_the_flush(
        lrs: SignInLrs, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and page.url.startswith(lrs.url) else None)
    sign_in_page(page, lrs.url, "ada", next_path="/console/history")
    assert "/console/history" in page.eval_on_selector_all(
        'nav[aria-label="Console"] a', "links => links.map(a => a.getAttribute('href'))")
    page.wait_for_selector("#needs-seal:not([hidden])")
    assert page.is_hidden("#start")  # no sealed space: nothing to opt in to
    assert "off unless you turn it on" in page.inner_text("#state")

    # Seal the space through its API, in this session (the space's own page does the same).
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    csrf = {"x-csrftoken": token, "X-Requested-With": "test"}
    assert page.request.post(f"{lrs.url}/api/v1/space", headers=csrf).status == 201
    sealed = page.request.post(f"{lrs.url}/api/v1/space/seal", headers=csrf,
                               data={"passphrase": PASSPHRASE})
    assert sealed.status == 200, sealed.text()
    assert page.request.post(f"{lrs.url}/api/v1/space/lock", headers=csrf).status == 204

    page.reload()
    page.wait_for_selector("#start:not([hidden])")
    page.focus("#start")
    page.keyboard.press("Enter")
    page.wait_for_selector("#stop-form:not([hidden])")
    assert "You keep your own history" in page.inner_text("#state")

    platform = intranet(lrs)
    # Five others on each page too, so that the figures pass small-group suppression.
    sent = [viewed("ada@example.com", PAGES[0]), viewed("ada@example.com", PAGES[1])] + [
        viewed(f"{name}@example.com", page) for name in ("bob", "cleo", "dan", "eve", "fay")
        for page in PAGES]
    posted = httpx.post(f"{lrs.url}/xapi/statements", json=sent, auth=platform,
                        headers=VERSION)
    assert posted.status_code == 200, posted.text
    before = figures(lrs)
    assert [a["hits"] for a in before[0]["activities"]] == [6, 6]  # tallied, all of them
    flushed = httpx.post(f"{lrs.url}/api/v1/admin/space/history/flush", auth=lrs.basic,
                         json={"through_today": True})
    assert flushed.status_code == 200, flushed.text
    assert flushed.json()["copies"] == 2
    assert figures(lrs) == before  # the flush changes no figure

    page.reload()
    page.wait_for_selector("#unlock-form:not([hidden])")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock")
    page.wait_for_selector("#history tbody tr >> text=holidays")
    found = rows(page, "history")
    assert len(found) == 2 and all("intranet" in row for row in found)
    body = page.inner_text("body")
    assert "bob" not in body and "cleo" not in body  # only their own
    assert "1 daily batch" in page.inner_text("#state")

    # On a phone the page fits the screen's width (tables stack into cards).
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})

    # Stop, deleting the copy, from the keyboard alone: the question opens on Cancel.
    page.focus("#stop-delete")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm[open]")
    assert page.evaluate("document.activeElement.id") == "confirm-no"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#start:not([hidden])")
    assert "You do not keep your history" in page.inner_text("#state")
    page.wait_for_selector("#history tbody tr >> text=Nothing in your history yet")
    status = page.request.get(f"{lrs.url}/api/v1/space/history").json()
    assert status["keeping"] is False and status["batches"] == 0
    assert errors == []
