"""End to end: "My space" in a real headless Chromium against a real `lrs serve`, people
signed in through the real OpenID provider (tests/oidc): a learner records, reflects,
attaches, edits, seals, locks, unlocks and recovers; an admin cannot open anyone's space;
and nothing the learner wrote is in any file the LRS wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page
from tests.lrs.space.scan import files_holding

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
MARKER = "Zebra-quokka-7731 reflection"
FILE_MARKER = b"file-marker-Okapi-4410"
PASSPHRASE = "my long passphrase 42"


@pytest.fixture(scope="module")
def served(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[SignInLrs, Path]]:
    data = tmp_path_factory.mktemp("space")
    with serve_with_sign_in(oidc_provider, data) as running:
        yield running, data


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(viewport={"width": 1280, "height": 900}, accept_downloads=True) as context:
        yield context


def errors_of(page: Any, lrs_url: str) -> list[str]:
    """The LRS's pages' errors (the provider's login page asks the network for a font).
    The API's refusals the test provokes (409 locked, 403 wrong passphrase) are logged by
    the browser as failed loads; anything else is a defect of the page."""
    found: list[str] = []
    page.on("pageerror", lambda exc: found.append(str(exc)))
    page.on("console", lambda m: found.append(f"{page.url}: {m.text}") if (
        m.type == "error" and page.url.startswith(lrs_url)
        and not any(f"status of {s}" in m.text for s in (403, 409))) else None)
    return found


def entry_titles(page: Any) -> list[str]:
    titles: list[str] = page.eval_on_selector_all("#entries .entry h3",
                                                  "hs => hs.map(h => h.textContent)")
    return titles


def test_learner_records_reflects_attaches_seals_locks_unlocks_and_recovers(
        served: tuple[SignInLrs, Path], browser: Any) -> None:
    lrs, data = served
    page = browser.new_page()
    errors = errors_of(page, lrs.url)
    sign_in_page(page, lrs.url, "ada", next_path="/console/space")
    page.wait_for_selector("#start:not([hidden])")
    assert "no space yet" in page.inner_text("#mode-text")

    page.select_option("#e-kind", "meeting")
    page.fill("#e-title", "Mentoring with Grace")
    page.fill("#e-happened", "We went through my first review.")
    page.fill("#e-learned", MARKER)
    page.fill("#e-next", "Ask for feedback every month.")
    page.fill("#e-tags", "mentoring, feedback")
    page.fill("#e-links", "https://example.org/review-guide")
    page.set_input_files("#e-file", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                            "buffer": FILE_MARKER}])
    page.click("#entry-submit")
    page.wait_for_selector("#entries .entry >> text=Mentoring with Grace")
    card = page.inner_text("#entries .entry")
    assert MARKER in card and "mentoring" in card and "notes.txt" in card
    assert "envelope" not in card and "Meeting" in card
    with page.expect_download() as download:
        page.click("#entries .entry a[download]")
    assert Path(download.value.path()).read_bytes() == FILE_MARKER

    page.click("button[aria-label='Edit Mentoring with Grace']")
    assert page.input_value("#e-title") == "Mentoring with Grace"
    page.fill("#e-title", "Mentoring with Grace (first)")
    page.click("#entry-submit")
    page.wait_for_selector("#entries .entry >> text=Mentoring with Grace (first)")
    assert entry_titles(page) == ["Mentoring with Grace (first)"]

    page.click("#seal-details summary")  # folded away until asked for
    page.fill("#seal-passphrase", PASSPHRASE)
    page.fill("#seal-again", PASSPHRASE)
    page.click("#seal-form button[type=submit]")
    page.wait_for_selector("#code-panel:not([hidden])")
    code = page.input_value("#code-value")
    assert len(code) == 39
    page.click("#code-done")
    assert page.is_hidden("#code-panel") and page.input_value("#code-value") == ""
    assert "sealed, and unlocked" in page.inner_text("#mode-text")
    assert entry_titles(page) == ["Mentoring with Grace (first)"]

    page.click("#lock-button")
    page.wait_for_selector("#unlock-form:not([hidden])")
    assert entry_titles(page) == [] and "Locked" in page.inner_text("#entries")
    page.fill("#unlock-passphrase", "not my passphrase")
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#errors >> text=$.passphrase")
    page.fill("#unlock-passphrase", PASSPHRASE)
    page.click("#unlock-form button[type=submit]")
    page.wait_for_selector("#entries .entry >> text=Mentoring with Grace (first)")
    assert page.inner_text("#errors") == ""

    page.click("#passphrase-details summary")
    page.fill("#old-passphrase", PASSPHRASE)
    page.fill("#new-passphrase", "my second passphrase")
    page.click("#passphrase-form button[type=submit]")
    page.wait_for_selector("#status >> text=Your passphrase is changed")

    page.click("#lock-button")
    page.wait_for_selector("#unlock-form:not([hidden])")
    page.click("#show-recover")
    page.fill("#recover-code", code.lower())
    page.fill("#recover-passphrase", "a brand new passphrase")
    page.click("#recover-form button[type=submit]")
    page.wait_for_selector("#code-panel:not([hidden])")
    assert page.input_value("#code-value") not in ("", code)
    page.click("#code-done")
    page.wait_for_selector("#entries .entry >> text=Mentoring with Grace (first)")

    page.set_viewport_size({"width": 375, "height": 800})  # a phone: nothing sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert errors == []
    page.close()

    # What the learner wrote is in no file the LRS wrote: database, WAL, keyring, key file.
    assert files_holding(data, [MARKER.encode(), FILE_MARKER]) == []


def test_admin_cannot_open_a_learners_space(served: tuple[SignInLrs, Path]) -> None:
    lrs, _ = served
    with chromium() as context:  # each person in a browser of their own
        page = context.new_page()
        sign_in_page(page, lrs.url, "bob", next_path="/console/space")
        page.fill("#e-title", "Only mine")
        page.click("#entry-submit")
        page.wait_for_selector("#entries .entry >> text=Only mine")

    with chromium() as context:
        admin = context.new_page()
        sign_in_page(admin, lrs.url, "admin", next_path="/console")
        assert "/console/space" not in admin.inner_html("nav")
        admin.goto(f"{lrs.url}/console/space")
        assert "Not for your roles" in admin.inner_text("main")
        for path in ("/api/v1/space", "/api/v1/space/entries"):
            answer = admin.request.get(f"{lrs.url}{path}")
            assert answer.status == 403 and "learner" in answer.json()["error"]["message"]

    # Someone who is admin and learner too sees only a space of their own, never another's.
    with chromium() as context:
        multi = context.new_page()
        sign_in_page(multi, lrs.url, "multi", next_path="/console/space")
        multi.wait_for_selector("#start:not([hidden])")
        body = multi.inner_text("body")
        assert "Only mine" not in body and "Mentoring" not in body
        assert multi.request.get(f"{lrs.url}/api/v1/space/entries").status == 404


def test_keyboard_only_records_and_deletes_an_entry(served: tuple[SignInLrs, Path]) -> None:
    lrs, _ = served
    with chromium(viewport={"width": 1280, "height": 900}) as context:
        page = context.new_page()
        sign_in_page(page, lrs.url, "bob", next_path="/console/space")
        page.wait_for_selector("#entry-panel:not([hidden])")

        def tab_to(target: str) -> None:
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.id") == target:
                    return
            raise AssertionError(f"Tab never reached #{target}")

        tab_to("e-title")
        page.keyboard.type("Typed without a mouse")
        page.keyboard.press("Enter")  # submits the form
        page.wait_for_selector("#entries .entry >> text=Typed without a mouse")
        for _ in range(80):  # on to the entry's Delete button
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") \
                    == "Delete Typed without a mouse":
                break
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirm[open]")
        assert page.evaluate("document.activeElement.id") == "confirm-no"  # safe default
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.id") == "confirm-yes"
        page.keyboard.press("Enter")
        page.wait_for_selector("#entries .entry >> text=Typed without a mouse",
                               state="detached")
        assert "Deleted" in page.inner_text("#status")
