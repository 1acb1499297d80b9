"""End to end: sharing in a real headless Chromium against a real `lrs serve`, people signed in
through the real OpenID provider (tests/oidc). A learner links evidence, rates themselves,
grants one manager access, makes a share link and revokes; the manager sees only what was
granted to them, reads and assesses it, and loses access at revocation and at expiry; the
assessment lands in the learner's record. Screenshots of failures go to test-artifacts/."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lrs.config import Settings
from lrs.objectives import Format, Framework, Objective
from lrs.storage import open_storage
from tests.e2e.browser import ARGS, ARTIFACTS, CHROMIUM
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
INCIDENTS = "https://case.example/items/incidents"
ON_CALL = "https://case.example/items/on-call"
REFLECTION = "I rerouted the pager rota at three in the morning"
DRILL = "Incident drill"


async def _load_framework(data_dir: Path) -> None:
    """The framework an admin would load, assigned to the provider's `learner` group."""
    storage = await open_storage(Settings(data_dir=data_dir))
    try:
        await storage.frameworks.put(Framework(
            id="ops", iri="https://case.example/docs/ops", title="Operations",
            format=Format.JSON, loaded=datetime.now(UTC),
            objectives=(Objective(INCIDENTS, "Handles incidents"),
                        Objective(ON_CALL, "Runs an on-call week"))))
        assert await storage.frameworks.assign("ops", ["learner"])
    finally:
        await storage.close()


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    """One LRS (SQLite) with a framework assigned to learners and a statement kept about
    Ada (a drill she completed, sent by a platform)."""
    data_dir = tmp_path_factory.mktemp("sharing")
    asyncio.run(_load_framework(data_dir))
    with serve_with_sign_in(oidc_provider, data_dir) as running:
        sent = httpx.post(f"{running.url}/xapi/statements", auth=running.basic,
                          headers={"X-Experience-API-Version": "1.0.3"}, json={
                              "id": str(uuid.uuid4()),
                              "actor": {"mbox": "mailto:ada@example.com"},
                              "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                                       "display": {"en": "completed"}},
                              "object": {"id": "https://lms.example/courses/drill",
                                         "definition": {"name": {"en": DRILL}}}})
        assert sent.status_code == 200, sent.text
        yield running


class Person:
    """One person's browser (their own profile, so their own cookies), its errors watched."""

    def __init__(self, context: Any, lrs: SignInLrs, login: str, next_path: str) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # Console errors, but not the browser's note of a 4xx the page expects and shows.
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and self.page.url.startswith(lrs.url)
                     and not m.text.startswith("Failed to load resource") else None)
        self.lrs = lrs
        sign_in_page(self.page, lrs.url, login, next_path=next_path)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the API with this browser's session and the page's CSRF token."""
        token = self.page.get_attribute('meta[name="csrf-token"]', "content")
        return self.page.request.fetch(f"{self.lrs.url}{path}", method=method, data=body,
                                       headers={"x-csrftoken": token,
                                                "Content-Type": "application/json"})

    def rows(self, table: str) -> list[str]:
        found: list[str] = self.page.eval_on_selector_all(
            f"#{table} tbody tr", "trs => trs.map(tr => tr.innerText)")
        return found

    def status(self, text: str) -> None:
        self.page.wait_for_selector(f"#status:has-text({text!r})")


@pytest.fixture
def two_browsers() -> Iterator[tuple[Any, Any]]:
    """Two contexts (their own cookies) of one Chromium: a laptop's and a phone's."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True)
        try:
            yield (browser.new_context(viewport={"width": 1280, "height": 800}),
                   browser.new_context(viewport={"width": 390, "height": 844},
                                       is_mobile=True))
        finally:
            browser.close()


def _select(page: Any, select: str, text: str) -> None:
    value = page.eval_on_selector(
        select, "(s, t) => [...s.options].find(o => o.textContent.includes(t)).value", text)
    page.select_option(select, value)


def test_learner_shares_and_the_manager_assesses_then_loses_access(
        lrs: SignInLrs, two_browsers: tuple[Any, Any]) -> None:
    learner_browser, manager_browser = two_browsers
    ada = Person(learner_browser, lrs, "ada", "/console/objectives")
    page = ada.page
    try:
        page.wait_for_selector("#objectives .card h3:has-text('Handles incidents')")
        # An entry of her space, recorded through the space's API, to link as evidence.
        made = ada.api("POST", "/api/v1/space/entries", {
            "kind": "experience", "title": "Night shift",
            "reflection": {"happened": REFLECTION}})
        assert made.status == 201, made.text()
        page.reload()
        page.wait_for_selector("#e-source option:has-text('Entry: Night shift')",
                               state="attached")
        # Link the entry, then the kept statement, to "Handles incidents" (keyboard-usable
        # labelled controls; select_option is what a keyboard choice does).
        for source, shown in (("Entry: Night shift", "Night shift"),
                              (f"Statement: completed {DRILL}", f"completed {DRILL}")):
            _select(page, "#e-objective", "Handles incidents")
            _select(page, "#e-source", source)
            page.click("#evidence-form button[type=submit]")
            page.wait_for_selector(f"#objectives ul.evidence li:has-text({shown!r})")
        ada.status("Evidence linked.")
        _select(page, "#r-objective", "Handles incidents")
        page.select_option("#r-level", "3")
        page.fill("#r-note", "confident on nights")
        page.click("#rate-form button[type=submit]")
        ada.status("Rating saved.")
        card = page.inner_text("#objectives .card:has(h3:has-text('Handles incidents'))")
        assert "Night shift" in card and DRILL in card and "3 of 4, Competent" in card

        # Grant Grace (the form), Bob (not hers to see), and Grace again on a short expiry.
        in_a_week = (date.today() + timedelta(days=7)).isoformat()
        _select(page, "#g-objective", "Handles incidents")
        page.fill("#g-grantee", "grace@example.com")
        page.fill("#g-expires", in_a_week)
        page.click("#grant-form button[type=submit]")
        ada.status("Shared with grace@example.com")
        expires_soon = (datetime.now(UTC) + timedelta(seconds=40)).isoformat()
        assert ada.api("POST", "/api/v1/grants", {
            "objective": ON_CALL, "grantee": "grace@example.com",
            "expires": expires_soon}).status == 201
        assert ada.api("POST", "/api/v1/grants", {
            "objective": INCIDENTS, "grantee": "bob@example.com",
            "expires": f"{in_a_week}T00:00:00Z"}).status == 201

        # A share link for an outside reader: shown once.
        _select(page, "#l-objective", "Handles incidents")
        page.fill("#l-label", "Promotion panel")
        page.fill("#l-ends", in_a_week)
        page.click("#link-form button[type=submit]")
        page.wait_for_selector("#link-box:not([hidden])")
        link = page.input_value("#link-url")
        assert link.startswith(f"{lrs.url}/share/")

        # Grace, on a phone: only the two grants to her.
        grace = Person(manager_browser, lrs, "grace", "/console/shared")
        grace.page.wait_for_selector("#shared tbody tr button")
        shared = grace.rows("shared")
        assert len(shared) == 2 and all("Ada Lovelace" in row for row in shared), shared
        assert grace.page.eval_on_selector("html", "e => e.scrollWidth <= e.clientWidth")
        grace.page.click("#shared button[aria-label*='Handles incidents']")
        grace.page.wait_for_selector("#reading:not([hidden])")
        reading = grace.page.inner_text("#reading")
        assert REFLECTION in reading and "3 of 4, Competent" in reading and DRILL in reading
        grace.page.check("input[name=outcome][value=met]")
        grace.page.fill("#a-comment", "Calm and thorough on the night.")
        grace.page.click("#assess-form button[type=submit]")
        grace.status("Assessment recorded for Ada Lovelace: met.")

        # The outside reader's page, read without signing in.
        outside = httpx.get(link)
        assert outside.status_code == 200 and REFLECTION in outside.text
        assert "<script" not in outside.text

        # Ada sees every read, then revokes Grace's grant with the confirm dialog.
        page.goto(f"{lrs.url}/console/objectives")
        page.wait_for_selector("#reads tbody tr:has-text('Grace Manager')")
        readers = ada.rows("reads")
        assert any("share link 'Promotion panel'" in row for row in readers), readers
        assert sum("Grace Manager" in row for row in readers) == 2, readers  # read + assess
        row = "#grants tbody tr:has-text('grace@example.com'):has-text('Handles incidents')"
        page.click(f"{row} button:has-text('Revoke')")
        page.wait_for_selector("#confirm[open]")
        page.click("#confirm-yes")
        ada.status("Revoked: grace@example.com can no longer read it.")
        assert "revoked" in page.inner_text(row)
        # The link, from the keyboard alone: the dialog opens on Cancel; Shift+Tab to Revoke.
        link_row = "#grants tbody tr:has-text('Promotion panel')"
        page.focus(f"{link_row} button:has-text('Revoke')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirm[open] #confirm-no:focus")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        ada.status("Revoked: Promotion panel")
        assert httpx.get(link).status_code == 403

        # Grace's stale list: reading the revoked grant is refused and the list reloads.
        grace.page.click("#shared button[aria-label*='Handles incidents']")
        grace.page.wait_for_selector("#errors:has-text('revoked')")
        grace.page.wait_for_selector("#shared tbody tr:has-text('Runs an on-call week')")
        assert len(grace.rows("shared")) == 1
        # ...and at expiry the other one goes too.
        time.sleep(max(0.0, (datetime.fromisoformat(expires_soon)
                             - datetime.now(UTC)).total_seconds()) + 0.5)
        grace.page.reload()
        grace.page.wait_for_selector("#shared tbody td.empty")
        expired = grace.page.request.get(f"{lrs.url}/api/v1/shared")
        assert expired.json() == []

        # The assessment is in Ada's record: a kept statement about her.
        record = page.request.get(f"{lrs.url}/api/v1/portfolio?format=json").json()
        [assessment] = [s for s in record if s["object"]["id"] == INCIDENTS]
        assert assessment["result"]["response"] == "Calm and thorough on the night."
        assert assessment["authority"]["mbox"] == "mailto:grace@example.com"
        page.goto(f"{lrs.url}/console/objectives")
        assessed = page.inner_text("#objectives .card:has(h3:has-text('Handles incidents')) "
                                   "ul.assessments")
        assert "Met" in assessed and "Grace Manager" in assessed, assessed
        assert "Calm and thorough on the night." in assessed
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing sideways
        assert page.eval_on_selector("html", "e => e.scrollWidth <= e.clientWidth")
        page.goto(f"{lrs.url}/console/me")
        page.wait_for_selector("#statements tbody tr:has-text('Handles incidents')")
        assert ada.errors == [] and grace.errors == [], (ada.errors, grace.errors)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sharing-learner.png"), full_page=True)
        raise
