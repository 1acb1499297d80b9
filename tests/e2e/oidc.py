"""A real OpenID provider for the tests (npm's oidc-provider, tests/oidc/provider.mjs, run by
Node), an `lrs serve` signed in through it, and helpers that sign a person in through the
provider's own login and consent forms: with httpx, or in Chromium with Playwright."""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
PROVIDER = OIDC_DIR / "provider.mjs"
NODE = shutil.which("node")
AUDIENCE = "urn:tally-lrs:xapi"  # as in provider.mjs
OTHER_AUDIENCE = "urn:someone-else:api"
CONSOLE_CLIENT = ("lrs-console", "console-secret")
MACHINE_CLIENT = ("lrs-machine", "machine-secret")  # known to the LRS (LRS_OIDC_MACHINE_CLIENTS)
SHORT_LIVED_CLIENT = ("lrs-short-lived", "short-secret")  # its tokens live SHORT_TTL seconds
STRANGER_CLIENT = ("stranger", "stranger-secret")  # the provider's, unknown to the LRS
SHORT_TTL = 2
# Test accounts of provider.mjs (login -> what its ID token and userinfo say).
ACCOUNTS = {
    "admin": {"email": "alice@example.com", "roles": ["admin"]},
    "compliance": {"email": "carol@example.com", "roles": ["compliance"]},
    "analyst": {"email": "andy@example.com", "roles": ["analyst"]},
    "ada": {"email": "ada@example.com", "roles": ["learner"]},
    "bob": {"email": "bob@example.com", "roles": ["learner"]},
    "multi": {"email": "morgan@example.com",
              "roles": ["admin", "analyst", "compliance", "learner"]},
    "nobody": {"email": "nora@example.com", "roles": []},
    "lin": {"email": "lin@example.com", "roles": ["learner"],
            "groups": ["learner", "sales-emea"]},
    "grace": {"email": "grace@example.com", "roles": ["manager"],
              "groups": ["manager", "sales-emea"]},
}
LRS_SLOTS = 8  # LRS base URLs the console client's redirect URIs name, handed out in turn



def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OidcProvider:
    """A running provider.mjs: its issuer, and the LRS addresses it will redirect to."""

    issuer: str
    lrs_urls: list[str]
    process: subprocess.Popen[bytes]
    _slots: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self._slots = itertools.cycle(self.lrs_urls)

    def next_lrs_url(self) -> str:
        """An LRS base URL (http://127.0.0.1:<port>) the console client accepts."""
        return next(self._slots)

    def token(self, client: tuple[str, str] = MACHINE_CLIENT,
              resource: str | None = None) -> str:
        """A client-credentials access token (a JWT) for `client`."""
        data = {"grant_type": "client_credentials"}
        if resource is not None:
            data["resource"] = resource
        response = httpx.post(f"{self.issuer}/token", data=data, auth=client)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def lrs_environment(self, lrs_url: str) -> dict[str, str]:
        """The LRS_* variables that point an LRS at `lrs_url` at this provider."""
        return {
            "LRS_PUBLIC_URL": lrs_url,
            "LRS_OIDC_ISSUER": self.issuer,
            "LRS_OIDC_CLIENT_ID": CONSOLE_CLIENT[0],
            "LRS_OIDC_CLIENT_SECRET": CONSOLE_CLIENT[1],
            "LRS_OIDC_AUDIENCE": AUDIENCE,
            "LRS_OIDC_MACHINE_CLIENTS": json.dumps({
                MACHINE_CLIENT[0]: {"name": "machine-lms", "scopes": ["statements/write",
                                                                      "statements/read"],
                                    "retention": "full"},
                SHORT_LIVED_CLIENT[0]: {"name": "short-lived", "scopes": ["statements/write"],
                                        "retention": "full"}}),
            "LRS_SESSION_SECRET": secrets.token_hex(32),
        }


@contextmanager
def run_provider(tmp: Path, jwks: Path, lrs_urls: list[str]) -> Iterator[OidcProvider]:
    """provider.mjs on a free port until the block ends; ready once discovery answers."""
    assert NODE is not None
    port = free_port()
    log = tmp / f"oidc-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [NODE, str(PROVIDER), "--port", str(port), "--lrs", ",".join(lrs_urls),
             "--jwks", str(jwks), "--short-ttl", str(SHORT_TTL)],
            stdout=out, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{issuer}/.well-known/openid-configuration", process, log)
        yield OidcProvider(issuer, lrs_urls, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path,
                  seconds: float = 30) -> None:
    """Return once `url` answers 200; fail with the process's log if it dies first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{url} did not come up:\n{log.read_text()}"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def oidc_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the providers' shared signing key is written (by the first one to start)."""
    return tmp_path_factory.mktemp("oidc") / "jwks.json"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory,
                  oidc_keys: Path) -> Iterator[OidcProvider]:
    """The OpenID provider of the session, with the test accounts of ACCOUNTS."""
    if NODE is None or not (OIDC_DIR / "node_modules").exists():
        pytest.skip("node or tests/oidc/node_modules is missing (make test installs both)")
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(LRS_SLOTS)]
    with run_provider(tmp_path_factory.mktemp("oidc-main"), oidc_keys, urls) as provider:
        yield provider


@pytest.fixture(scope="session")
def other_oidc_provider(tmp_path_factory: pytest.TempPathFactory, oidc_keys: Path,
                        oidc_provider: OidcProvider) -> Iterator[OidcProvider]:
    """A second provider instance: same clients, same signing key, another issuer."""
    with run_provider(tmp_path_factory.mktemp("oidc-other"), oidc_keys,
                      oidc_provider.lrs_urls) as provider:
        yield provider


@dataclass
class SignInLrs:
    """A running `lrs serve` whose people sign in at `provider`."""

    url: str
    provider: OidcProvider
    basic: tuple[str, str]  # a credential with scope `all`
    log: Path


LRS = [sys.executable, "-m", "lrs"]


@contextmanager
def serve_with_sign_in(provider: OidcProvider, data_dir: Path, *, store: str | None = None,
                       mongodb_database: str = "lrs",
                       extra_env: dict[str, str] | None = None) -> Iterator[SignInLrs]:
    """`lrs serve` on one of the provider's LRS addresses, signing people in through it."""
    url = provider.next_lrs_url()
    env = {**os.environ, "LRS_DATA_DIR": str(data_dir), "LRS_MONGODB_DATABASE": mongodb_database,
           **({"LRS_STORE": store} if store else {}), **provider.lrs_environment(url),
           **(extra_env or {})}
    created = subprocess.run([*LRS, "credentials", "create", "--name", "e2e", "--scopes", "all",
                              "--retention", "full", "--json"], env=env, capture_output=True,
                             text=True, timeout=60, check=True)
    credential = json.loads(created.stdout)
    log = data_dir / f"serve-{url.rsplit(':', 1)[1]}.log"
    with log.open("w") as out:
        process = subprocess.Popen([*LRS, "serve", "--port", url.rsplit(":", 1)[1]], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"{url}/xapi/about", process, log)
        yield SignInLrs(url, provider, (credential["key"], credential["secret"]), log)
    finally:
        process.terminate()
        process.wait(timeout=15)


class _Forms(HTMLParser):
    """The forms of a page: action, method and the named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.forms.append({"action": named.get("action") or "", "id": named.get("id"),
                               "fields": {}})
        elif tag in ("input", "button") and self.forms and named.get("name"):
            self.forms[-1]["fields"].setdefault(named["name"], named.get("value") or "")


def forms_of(html: str) -> list[dict[str, Any]]:
    """Every form on the page, in order."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def through_provider_forms(client: httpx.Client, response: httpx.Response,
                           login: str) -> httpx.Response:
    """Answer the provider's dev interactions (login, then consent) until it lets go."""
    for _ in range(6):
        if response.status_code != 200 or "/interaction/" not in str(response.url):
            return response
        form = forms_of(response.text)[0]
        fields = dict(form["fields"])
        if fields.get("prompt") == "login":
            fields.update(login=login, password="any password")
        response = client.post(urljoin(str(response.url), form["action"]), data=fields)
    raise AssertionError(f"the provider kept asking: {response.text[:500]}")


def sign_in(client: httpx.Client, lrs_url: str, login: str, *,
            next_path: str = "/api/v1/me") -> httpx.Response:
    """Sign `login` (one of ACCOUNTS) in on `client` (follow_redirects=True): through the
    LRS's /sign-in, the provider's login and consent forms, and back. The last response."""
    started = client.get(f"{lrs_url}/sign-in", params={"next": next_path})
    return through_provider_forms(client, started, login)


@contextmanager
def signed_in_client(lrs_url: str, login: str) -> Iterator[httpx.Client]:
    """A new httpx client (cookies kept, redirects followed) with `login` signed in, and the
    CSRF cookie set (`csrf_of(client)` gives its token)."""
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        response = sign_in(client, lrs_url, login)
        assert response.status_code == 200, response.text
        assert response.json()["subject"] == login, response.text
        yield client


def csrf_of(client: httpx.Client) -> str:
    """The CSRF token the LRS set on `client` (its cookie, which a page repeats)."""
    token = client.cookies.get("csrftoken")
    assert token, "no csrftoken cookie: fetch a page that renders a form first"
    return token


def sign_in_page(page: Any, lrs_url: str, login: str, *, next_path: str = "/console") -> None:
    """Sign `login` in on a Playwright page through the provider's forms, with the keyboard,
    and wait until the LRS has sent the browser on to `next_path`."""
    page.goto(f"{lrs_url}/sign-in?next={next_path}")
    page.wait_for_selector("input[name=login]")
    page.focus("input[name=login]")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type("any password")
    page.keyboard.press("Enter")
    page.wait_for_selector("button[type=submit]:has-text('Continue')")
    page.click("button[type=submit]:has-text('Continue')")
    page.wait_for_url(f"{lrs_url}{next_path}*")


def tamper(cookie: str) -> str:
    """The cookie with one character of its signed payload changed."""
    payload, _, rest = cookie.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=") + "." + rest
