"""End to end in headless Chromium, signed in through the real OpenID provider: an admin
loads a published CASE package on the Frameworks page, reads it as a tree, assigns it to a
group of the sign-in claim and deletes it; a learner of that group then sees its objectives,
a manager does not administer it; the page fits a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import ARTIFACTS, CHROMIUM, chromium
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]

CASE = Path(__file__).parents[1] / "data" / "case" / "opensalt-what-standards-could-be.json"
CASE_ID = "20c5134f-423d-4097-a971-3dd5152bf507"
TITLE = "What Standards Could Be"


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("frameworks")) as running:
        yield running


def errors_of(page: Any, lrs_url: str) -> list[str]:
    """Page errors and console errors of the LRS's pages, collected from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and page.url.startswith(lrs_url) else None)
    return errors


def test_admin_loads_a_case_package_assigns_it_and_a_learner_of_the_group_sees_it(
        lrs: SignInLrs, tmp_path: Path) -> None:
    with chromium(viewport={"width": 1280, "height": 900}) as browser:
        page = browser.new_page()
        errors = errors_of(page, lrs.url)
        sign_in_page(page, lrs.url, "admin", next_path="/console/frameworks")
        page.wait_for_selector("#frameworks tbody >> text=No frameworks yet")
        assert "/console/frameworks" in page.eval_on_selector_all(
            'nav[aria-label="Console"] a', "links => links.map(a => a.getAttribute('href'))")

        # A CSV without the title it needs: the API's message and where it is wrong.
        broken = tmp_path / "skills.csv"
        broken.write_text("id,title\nhttps://example.com/skills/a,Listening\n")
        page.set_input_files("#u-file", str(broken))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#errors:not(:empty)")
        assert "Could not load skills.csv" in page.inner_text("#errors")
        assert page.inner_text("#errors code") == "?title"

        # The published package, from the keyboard: Tab to the button, Enter.
        page.set_input_files("#u-file", str(CASE))
        page.focus("#u-replace")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#status >> text=Loaded {TITLE}: 16 objectives.")
        assert page.inner_text("#errors") == ""
        row = page.inner_text(f"#frameworks tbody tr:has-text('{TITLE}')")
        assert CASE_ID in row and "CASE" in row and "16" in row and "nobody" in row
        # The tree: clusters at the top, standards under them, components under those.
        page.wait_for_selector("#framework:not([hidden])")
        assert page.inner_text("#framework-title") == TITLE
        top = page.eval_on_selector_all(
            "#tree > ul.tree > li > details > summary", "s => s.map(x => x.innerText)")
        assert [t.split()[0] for t in top] == ["CCSS.Math.Content.6.RP.A",
                                                "CCSS.Math.Content.7.RP.A"]
        nested = page.locator("#tree ul.tree ul.tree ul.tree li:has-text('6.RP.A.3a')")
        assert nested.count() == 1
        # A branch folds from the keyboard (a <details> disclosure).
        page.focus("#tree summary >> nth=0")
        page.keyboard.press("Enter")
        assert page.locator("#tree details >> nth=0").get_attribute("open") is None
        page.keyboard.press("Enter")

        page.fill("#g-groups", "sales-emea, ")
        page.click("#groups-form button[type=submit]")
        page.wait_for_selector("#status >> text=Assigned to sales-emea.")
        page.wait_for_selector(f"#frameworks tbody tr:has-text('{TITLE}') >> text=sales-emea")
        assert errors == [e for e in errors if "400" in e]  # the broken CSV's 400 only

    # A learner in the group sees the framework's objectives; nobody else administers it.
    with chromium() as learner:
        page = learner.new_page()
        sign_in_page(page, lrs.url, "lin", next_path="/api/v1/objectives/mine")
        mine = page.request.get(f"{lrs.url}/api/v1/objectives/mine").json()
        assert mine["groups"] == ["learner", "sales-emea"]
        assert [f["id"] for f in mine["frameworks"]] == [CASE_ID]
        assert len(mine["frameworks"][0]["objectives"]) == 16
        page.goto(f"{lrs.url}/console/frameworks")
        assert "needs the <strong>admin</strong> role" in page.content()
    with chromium() as manager:
        page = manager.new_page()
        sign_in_page(page, lrs.url, "grace", next_path="/console")
        assert page.inner_text("#who-roles") == "manager"
        assert "Assess the objectives" in page.inner_text("#role-manager")
        assert page.request.get(f"{lrs.url}/api/v1/objectives/frameworks").status == 403

    with chromium(viewport={"width": 1280, "height": 900}) as browser:
        page = browser.new_page()
        sign_in_page(page, lrs.url, "admin", next_path="/console/frameworks")
        page.click(f"button[aria-label='Delete {TITLE}']")
        page.click("#confirm-yes")
        page.wait_for_selector(f"#status >> text=Deleted {TITLE}.")
        page.wait_for_selector("#frameworks tbody >> text=No frameworks yet")


def test_frameworks_page_fits_a_phone(lrs: SignInLrs) -> None:
    with chromium(viewport={"width": 390, "height": 844}, is_mobile=True,
                  has_touch=True) as browser:
        page = browser.new_page()
        sign_in_page(page, lrs.url, "admin", next_path="/console/frameworks")
        page.set_input_files("#u-file", str(CASE))
        page.check("#u-replace")
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#framework:not([hidden]) #tree li")
        page.wait_for_selector("#frameworks tbody tr td[data-label]")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
        assert page.eval_on_selector("#frameworks tbody tr",
                                     "tr => getComputedStyle(tr).display") == "block"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "console-frameworks-phone.png", full_page=True)
