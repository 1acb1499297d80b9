"""HTTP Basic authentication against the credential store (Communication §4, LRS book 4.1.8)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime

from lrs.credentials import Credential, CredentialStore, Scope, hash_secret, verify_secret
from statements.errors import Forbidden, StoreUnavailable, Unauthorized

log = logging.getLogger("lrs.auth")


class Authenticator:
    """Checks Basic credentials. A verified secret is remembered for a few seconds, keyed
    by a salted fast hash, so the slow hash runs once per client rather than per request."""

    def __init__(self, store: CredentialStore, *, cache_seconds: float) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._pepper = secrets.token_bytes(16)  # per process: the cache key reveals nothing
        self._cache: dict[bytes, tuple[float, Credential]] = {}
        self._pending: dict[bytes, asyncio.Future[Credential]] = {}
        self._decoy = hash_secret(secrets.token_hex(24))  # matches no secret anyone sends

    async def authenticate(self, header: str | None) -> Credential:
        """The credential named by an `Authorization: Basic …` header, or Unauthorized."""
        key, secret = _parse_basic(header)
        fingerprint = hashlib.blake2b(f"{key}:{secret}".encode(), key=self._pepper).digest()
        cached = self._cache.get(fingerprint)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        # Concurrent requests from one client whose entry expired share one slow hash:
        # eight connections must not run scrypt eight times at once.
        pending = self._pending.get(fingerprint)
        if pending is None:
            pending = asyncio.ensure_future(self._verify(key, secret))
            self._pending[fingerprint] = pending
            pending.add_done_callback(lambda _: self._pending.pop(fingerprint, None))
        credential = await asyncio.shield(pending)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[fingerprint] = (time.monotonic() + self._cache_seconds, credential)
        return credential

    async def _verify(self, key: str, secret: str) -> Credential:
        credential = await self._store.get(key)
        known = credential is not None and credential.revoked is None
        # An unknown key costs the same slow hash as a wrong secret: no timing oracle for
        # which keys exist.
        ok = await asyncio.to_thread(verify_secret, secret, credential.secret_hash
                                     if credential is not None and known else self._decoy)
        if credential is None or not known or not ok:
            raise Unauthorized("unknown or revoked credentials")
        # "Last used" is written here, on the slow path only: once per cache period per
        # client and process, never on every request. A store that refuses the write
        # does not turn a valid credential away.
        try:
            await self._store.record_use(key, datetime.now(UTC))
        except StoreUnavailable:
            log.warning("could not record the use of credential %r", credential.name)
        return credential


def require(credential: Credential, *scopes: Scope) -> None:
    """Forbidden unless the credential has one of `scopes` (or `all`)."""
    if not credential.allows(*scopes):
        names = ", ".join(scope.value for scope in scopes)
        raise Forbidden(f"the credential '{credential.name}' lacks the scope for this "
                        f"(one of: {names}, all)")


def _parse_basic(header: str | None) -> tuple[str, str]:
    if not header:
        raise Unauthorized("credentials are required (HTTP Basic)")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("only HTTP Basic credentials are accepted")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed Basic credentials") from None
    key, sep, secret = decoded.partition(":")
    if not sep or not key:
        raise Unauthorized("malformed Basic credentials")
    return key, secret
