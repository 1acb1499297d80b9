"""The organisation's identity provider through Authlib's Starlette OAuth client: discovery,
the authorization code flow with PKCE (S256), state and nonce, ID token validation, userinfo
and RP-initiated logout (OpenID Connect Core 1.0; RP-Initiated Logout 1.0)."""

from __future__ import annotations

from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import RedirectResponse

from lrs.config import Settings
from lrs.people import Person
from lrs.people.claims import person_from_claims

__all__ = ["IdentityProvider", "OAuthError", "SignInFailed"]


class SignInFailed(Exception):
    """The identity provider refused, or could not be reached; the message says which."""


class IdentityProvider:
    """One OIDC issuer, registered with Authlib under the name `oidc`."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer is not None and settings.oidc_client_id is not None
        self.settings = settings
        self.issuer = settings.oidc_issuer
        secret = settings.oidc_client_secret
        self._oauth = OAuth()
        self._client: Any = self._oauth.register(
            name="oidc", client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            server_metadata_url=_discovery_url(self.issuer),
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"})

    async def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (fetched once per process, then cached)."""
        try:
            metadata: dict[str, Any] = await self._client.load_server_metadata()
        except httpx2.HTTPError as exc:
            raise SignInFailed(f"the identity provider could not be reached ({exc})") from None
        return metadata

    async def redirect(self, request: Request, redirect_uri: str) -> RedirectResponse:
        """To the provider's authorization endpoint; state, nonce and the PKCE verifier are
        kept in the browser's signed session cookie until the callback."""
        await self.metadata()
        try:
            response: RedirectResponse = await self._client.authorize_redirect(
                request, redirect_uri)
        except httpx2.HTTPError as exc:
            raise SignInFailed(f"the identity provider could not be reached ({exc})") from None
        return response

    async def callback(self, request: Request) -> tuple[Person, str | None]:
        """The person the provider signed in (and the ID token, the hint for logout)."""
        try:
            token: dict[str, Any] = await self._client.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise SignInFailed("the identity provider sent no ID token (is the scope "
                                   "`openid` in LRS_OIDC_SCOPES?)")
            if "userinfo_endpoint" in await self.metadata():
                extra = dict(await self._client.userinfo(token=token))
                # OIDC Core §5.3.2: a userinfo response for another subject is not used.
                if extra.get("sub") == claims["sub"]:
                    claims = {**extra, **claims}
        except OAuthError as exc:
            raise SignInFailed(_describe(exc)) from None
        except httpx2.HTTPError as exc:
            raise SignInFailed(f"the identity provider could not be reached ({exc})") from None
        id_token = token.get("id_token")
        return (person_from_claims(self.issuer, claims, self.settings),
                id_token if isinstance(id_token, str) else None)

    async def logout_url(self, id_token: str | None, post_logout_redirect_uri: str
                         ) -> str | None:
        """The provider's end-session address for RP-initiated logout, when its discovery
        document advertises one."""
        try:
            if "end_session_endpoint" not in await self.metadata():
                return None
            result: dict[str, Any] = await self._client.create_logout_url(
                post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token)
        except (SignInFailed, OAuthError, RuntimeError):
            return None
        url = result.get("url")
        return url if isinstance(url, str) else None


def _discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _describe(exc: OAuthError) -> str:
    error = getattr(exc, "error", None) or "error"
    description = getattr(exc, "description", None)
    if error == "mismatching_state":
        return ("this sign-in was not started by this browser, or it took too long "
                "(the state does not match): start again")
    return f"the identity provider answered {error}" + (f": {description}" if description
                                                        else "")
