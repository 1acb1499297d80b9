"""End to end: "My credentials" in a real headless Chromium against a real `lrs serve`, the
learner signed in through the real OpenID provider: she downloads her record, imports one
signed by her former employer (verified, listed) and is refused a tampered one, told which
file and JSON path failed, with nothing imported."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lrs.vc.export import export_archive, space_document
from lrs.vc.issue import issue_record
from lrs.vc.keys import load_issuer_key
from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page
from tests.lrs.vc.factories import make_objective

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]


@pytest.fixture(scope="module")
def served(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("credentials")) as running:
        yield running


def former_employers_export(tmp_path: Path) -> bytes:
    """What another LRS gave Ada when she left: two badges and a CLR, signed by its did:key."""
    key = load_issuer_key(None, None, tmp_path)
    objectives = [make_objective(iri=f"https://case.example.org/uri/{n}", title=title)
                  for n, title in enumerate(["Runs a site induction", "Leads a toolbox talk"])]
    now = datetime.now(UTC)
    record = issue_record(objectives, "mailto:ada@old-employer.example", "Ada Lovelace", key,
                          "Old Employer Ltd", now)
    document = space_document("mailto:ada@old-employer.example", "Ada Lovelace", objectives,
                              [], [], now)
    return export_archive(document, record, key, "Old Employer Ltd")


def tampered(archive: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("credentials/badge-1") and name.endswith(".json"):
                badge = orjson.loads(data)
                badge["name"] = "Site director"
                data = orjson.dumps(badge)
            target.writestr(name, data)
    return out.getvalue()


def test_learner_downloads_her_record_and_imports_a_verified_one(
        served: SignInLrs, tmp_path: Path) -> None:
    archive = former_employers_export(tmp_path)
    with chromium(viewport={"width": 1280, "height": 900}, accept_downloads=True) as context:
        page: Any = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in_page(page, served.url, "ada", next_path="/console/my-credentials")
        page.wait_for_selector("h1:has-text('My credentials')")
        page.wait_for_selector("#imported td:has-text('None yet')")

        with page.expect_download() as download:
            page.click("#export-button")
        assert download.value.suggested_filename == "learning-record.zip"
        mine = zipfile.ZipFile(download.value.path())
        assert {"space.json", "record.html", "README.txt"} <= set(mine.namelist())
        space = orjson.loads(mine.read("space.json"))
        assert space["learner"]["id"] == "mailto:ada@example.com"
        page.wait_for_selector("#status:has-text('downloaded')")

        # A tampered copy first: refused, with the file and JSON path, nothing imported.
        page.set_input_files("#import-file", files=[{
            "name": "learning-record.zip", "mimeType": "application/zip",
            "buffer": tampered(archive)}])
        page.click("#import-form button[type=submit]")
        page.wait_for_selector("#errors li")
        alert = page.inner_text("#errors")
        assert "Nothing was imported" in alert and "$.proof.proofValue" in alert
        assert "None yet" in page.inner_text("#imported tbody")

        # The real one: every credential verified and listed, with who signed it.
        page.set_input_files("#import-file", files=[{
            "name": "learning-record.zip", "mimeType": "application/zip", "buffer": archive}])
        page.keyboard.press("Tab")
        page.focus("#import-form button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#imported tbody tr >> text=Runs a site induction")
        rows = page.inner_text("#imported tbody")
        assert "Runs a site induction" in rows and "Leads a toolbox talk" in rows
        assert "Learner record (CLR)" in rows and "did:key:z6Mk" in rows
        assert "eddsa-rdfc-2022, vc-jwt" in rows
        assert page.inner_text("#errors") == ""
        assert "3 credential(s) verified" in page.inner_text("#status")
        page.reload()  # kept in her space, not only shown
        page.wait_for_selector("#imported tbody tr >> text=Leads a toolbox talk")
        assert len(page.query_selector_all("#imported tbody tr")) == 3
        assert errors == []

        # On a phone, the page still fits.
        page.set_viewport_size({"width": 375, "height": 740})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
