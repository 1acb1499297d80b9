"""OAuth 2.0 bearer access tokens for machines (RFC 6750, JWT profile RFC 9068): a JWT from
the configured issuer, client-credentials grant, verified with PyJWT against the issuer's
JWKS (signature, issuer, audience, expiry), its client mapped to a credential."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import jwt

from lrs.config import MachineClient
from lrs.credentials import Credential, Retention
from lrs.people.oidc import SignInFailed
from statements.errors import Unauthorized

# Asymmetric algorithms only: never "none", never an HMAC keyed by something public.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "ES512", "EdDSA"]
_REFRESH_AT_MOST_EVERY = 10.0  # seconds: an unknown kid must not make every request a fetch


class BearerTokens:
    """Verifies bearer tokens; the JWKS is fetched once, cached, and fetched again when a
    token names a key id it does not hold (the issuer rotated its keys)."""

    def __init__(self, *, issuer: str, audience: str | None,
                 clients: dict[str, MachineClient],
                 metadata: Callable[[], Awaitable[dict[str, Any]]],
                 http: httpx2.AsyncClient) -> None:
        self._issuer = issuer
        self._audience = audience
        self._clients = clients
        self._metadata = metadata
        self._http = http
        self._keys: jwt.PyJWKSet | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()
        self._created = datetime.now(UTC)

    async def authenticate(self, token: str) -> Credential:
        """The credential of the client the token was issued to, or Unauthorized."""
        if self._audience is None:
            raise Unauthorized("bearer tokens are not accepted here (LRS_OIDC_AUDIENCE is "
                               "not set): use HTTP Basic credentials")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorized("malformed bearer token: not a JWT") from None
        key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self._audience,
                issuer=self._issuer, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the bearer token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the bearer token is not for this LRS: its audience (aud) is "
                               "not LRS_OIDC_AUDIENCE") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("the bearer token is from another issuer than "
                               "LRS_OIDC_ISSUER") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid bearer token: {exc}") from None
        return self._credential_of(claims)

    def _credential_of(self, claims: dict[str, Any]) -> Credential:
        client_id = claims.get("client_id") or claims.get("azp")
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        if client is None:
            raise Unauthorized(f"the bearer token's client {client_id!r} is not one of "
                               "LRS_OIDC_MACHINE_CLIENTS")
        return Credential(
            key=f"client:{client_id}", name=client.name, secret_hash="",
            scopes=frozenset(client.scopes), retention=Retention(client.retention),
            authority={"objectType": "Agent", "name": client.name,
                       "account": {"homePage": self._issuer, "name": client_id}},
            created=self._created)

    async def _key(self, kid: Any) -> Any:
        keys = self._keys or await self._refresh(force=True)
        found = _find(keys, kid)
        if found is None:
            found = _find(await self._refresh(force=False), kid)
        if found is None:
            raise Unauthorized("the bearer token is signed with a key the issuer does not "
                               "publish (not from LRS_OIDC_ISSUER?)")
        return found.key

    async def _refresh(self, *, force: bool) -> jwt.PyJWKSet:
        async with self._lock:
            if self._keys is not None and (not force and time.monotonic() - self._fetched
                                           < _REFRESH_AT_MOST_EVERY):
                return self._keys
            try:
                uri = (await self._metadata())["jwks_uri"]
                response = await self._http.get(uri)
                response.raise_for_status()
                self._keys = jwt.PyJWKSet.from_dict(response.json())
            except (SignInFailed, httpx2.HTTPError, KeyError, ValueError,
                    jwt.PyJWTError) as exc:
                raise Unauthorized(f"cannot check bearer tokens now: the issuer's keys "
                                   f"could not be read ({exc})") from None
            self._fetched = time.monotonic()
            return self._keys


def _find(keys: jwt.PyJWKSet, kid: Any) -> jwt.PyJWK | None:
    signing = [k for k in keys.keys if k.public_key_use in (None, "sig")]
    if kid is None:
        return signing[0] if len(signing) == 1 else None
    return next((k for k in signing if k.key_id == kid), None)
