"""End to end: machines send OAuth 2.0 bearer access tokens (client-credentials JWTs from a
real oidc-provider) to a real `lrs serve`; every bad token is a 401 that says why."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.e2e.oidc import (
    MACHINE_CLIENT,
    OTHER_AUDIENCE,
    SHORT_LIVED_CLIENT,
    SHORT_TTL,
    STRANGER_CLIENT,
    OidcProvider,
    SignInLrs,
    serve_with_sign_in,
)
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
VERSION = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("lrs")) as running:
        yield running


def post_with(lrs: SignInLrs, token: str) -> httpx.Response:
    return httpx.post(f"{lrs.url}/xapi/statements", json=make_statement(),
                      headers={**VERSION, "Authorization": f"Bearer {token}"})


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    message: str = response.json()["error"]["message"]
    return message


def test_bearer_token_of_a_known_client_writes_and_reads(lrs: SignInLrs) -> None:
    token = lrs.provider.token(MACHINE_CLIENT)
    statement = make_statement()
    auth = {**VERSION, "Authorization": f"Bearer {token}"}
    posted = httpx.post(f"{lrs.url}/xapi/statements", json=statement, headers=auth)
    assert posted.status_code == 200, posted.text
    got = httpx.get(f"{lrs.url}/xapi/statements", params={"statementId": statement["id"]},
                    headers=auth)
    assert got.status_code == 200, got.text
    # The client's authority: an account under the issuer, named by the client id.
    assert got.json()["authority"]["account"] == {"homePage": lrs.provider.issuer,
                                                  "name": MACHINE_CLIENT[0]}
    # Kept, as its retention default says (LRS_OIDC_MACHINE_CLIENTS: full).
    assert got.json()["id"] == statement["id"]


def test_bearer_token_scopes_bound_what_the_client_may_do(lrs: SignInLrs) -> None:
    token = lrs.provider.token(MACHINE_CLIENT)  # statements/write and statements/read only
    response = httpx.get(f"{lrs.url}/api/v1/catalogue",
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_bearer_token_from_another_issuer_is_refused(lrs: SignInLrs,
                                                     other_oidc_provider: OidcProvider) -> None:
    # Same client, same signing key, another issuer: only the `iss` check stands in the way.
    token = other_oidc_provider.token(MACHINE_CLIENT)
    assert jwt.get_unverified_header(token)["kid"] == jwt.get_unverified_header(
        lrs.provider.token(MACHINE_CLIENT))["kid"]
    assert "another issuer" in refusal(post_with(lrs, token))


def test_bearer_token_for_another_audience_is_refused(lrs: SignInLrs) -> None:
    token = lrs.provider.token(MACHINE_CLIENT, resource=OTHER_AUDIENCE)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == OTHER_AUDIENCE
    assert "audience" in refusal(post_with(lrs, token))


def test_expired_bearer_token_is_refused(lrs: SignInLrs) -> None:
    token = lrs.provider.token(SHORT_LIVED_CLIENT)
    assert post_with(lrs, token).status_code == 200  # good while it lives
    time.sleep(SHORT_TTL + 1.2)
    assert "expired" in refusal(post_with(lrs, token))


def test_bearer_token_of_an_unknown_client_is_refused(lrs: SignInLrs) -> None:
    token = lrs.provider.token(STRANGER_CLIENT)
    assert "'stranger' is not one of LRS_OIDC_MACHINE_CLIENTS" in refusal(post_with(lrs, token))


def test_bearer_token_tampered_or_not_a_jwt_is_refused(lrs: SignInLrs) -> None:
    header, payload, signature = lrs.provider.token(MACHINE_CLIENT).split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert "invalid bearer token" in refusal(post_with(lrs, f"{header}.{payload}.{flipped}"))
    assert "not a JWT" in refusal(post_with(lrs, "opaque-token"))
    # An unsigned token ("alg": "none") never passes.
    unsigned = jwt.encode(jwt.decode(f"{header}.{payload}.{signature}",
                                     options={"verify_signature": False}), None,
                          algorithm="none")
    assert refusal(post_with(lrs, unsigned))


def test_basic_credentials_are_unchanged_beside_bearer(lrs: SignInLrs) -> None:
    posted = httpx.post(f"{lrs.url}/xapi/statements", json=make_statement(), auth=lrs.basic,
                        headers=VERSION)
    assert posted.status_code == 200, posted.text
    wrong = httpx.post(f"{lrs.url}/xapi/statements", json=make_statement(),
                       auth=("nobody", "x"), headers=VERSION)
    assert "unknown or revoked credentials" in refusal(wrong)
    none = httpx.get(f"{lrs.url}/xapi/statements", headers=VERSION)
    assert "credentials are required (HTTP Basic)" in refusal(none)
