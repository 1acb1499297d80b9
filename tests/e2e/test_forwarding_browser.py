"""End to end: the console's Forwarding page in a real headless Chromium, an admin signed in
through the real OpenID provider, a real webhook receiver: add a destination and a rule,
watch a failing receiver's statements become dead letters, replay them once it answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.forwarding_processes import HOOK_SECRET, Hook, wait_for
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page
from tests.e2e.test_console_browser import Watched, nav, rows
from tests.factories import make_statement

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
COURSE = "https://lms.example.com/courses/forwarded"


@pytest.fixture
def lrs(oidc_provider: OidcProvider, tmp_path: Path) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path / "lrs", extra_env={
            "LRS_FORWARDING_POLL_SECONDS": "0.1", "LRS_FORWARDING_BACKOFF_SECONDS": "0.1",
            "LRS_FORWARDING_BACKOFF_MAX_SECONDS": "0.2", "LRS_FORWARDING_MAX_ATTEMPTS": "2",
            "LRS_FORWARDING_RULES_REFRESH_SECONDS": "0"}) as running:
        yield running


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[Hook]:
    receiver = Hook(tmp_path / "hook")
    receiver.start()
    receiver.mode("fail")
    yield receiver
    receiver.kill()


def test_admin_adds_a_webhook_and_a_rule_then_replays_its_dead_letters(
        lrs: SignInLrs, hook: Hook) -> None:
    with chromium(viewport={"width": 1280, "height": 800}) as browser:
        page: Any = browser.new_page()
        watched = Watched(page, lrs.url)
        sign_in_page(page, lrs.url, "admin", next_path="/console/forwarding")
        assert "/console/forwarding" in nav(page)
        page.wait_for_selector("#delivery tbody tr >> text=No destinations yet")

        page.fill("#d-name", "warehouse")
        page.fill("#d-url", hook.url)
        page.fill("#d-secret", HOOK_SECRET)
        page.click("#destination-form button[type=submit]")
        page.wait_for_selector("#delivery tbody tr >> text=warehouse")
        assert "Added the destination warehouse" in page.inner_text("#status")
        page.select_option("#r-destination", "warehouse")
        page.fill("#r-activity", "https://lms.example.com/courses/*")
        page.click("#rule-form button[type=submit]")
        page.wait_for_selector("#rules tbody tr >> text=kept statements")
        # A mistake is named where it is, and nothing is added.
        page.check("input[name=decision][value=tallied]")
        page.fill("#r-activity", "not an iri")
        page.click("#rule-form button[type=submit]")
        page.wait_for_selector("#errors li >> text=$.activity")
        assert len(rows(page, "rules")) == 1

        statement = make_statement(object={"objectType": "Activity", "id": COURSE})
        sent = httpx.post(f"{lrs.url}/xapi/statements", json=statement, auth=lrs.basic,
                          headers={"X-Experience-API-Version": "2.0.0"})
        assert sent.status_code == 200, sent.text

        def dead_shown() -> bool:
            page.click("#refresh")
            page.wait_for_selector("#status >> text=Refreshed")
            replay = page.locator("button[aria-label='Replay the dead letters of warehouse']")
            return "HTTP 500" in rows(page, "delivery")[0] and replay.count() == 1

        wait_for("the dead letter on the page", dead_shown, 30)
        assert HOOK_SECRET not in watched.bodies()  # the secret never comes back
        hook.mode("ok")
        page.click("button[aria-label='Replay the dead letters of warehouse']")
        page.wait_for_selector("#confirm[open]")
        page.click("#confirm-yes")
        page.wait_for_selector("#status >> text=Replayed 1 dead letters of warehouse")
        wait_for("the statement at the receiver", lambda: statement["id"] in hook.items(), 30)
        # Chromium logs the one 400 the page was meant to get (the rule with a mistake).
        assert watched.errors == ["Failed to load resource: the server responded with a "
                                  "status of 400 (Bad Request)"]
