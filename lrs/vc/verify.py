"""Verify a credential: its proof, that its issuer's DID holds the key, its validity period."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lrs.vc import dataintegrity, vcjwt
from lrs.vc.contexts import VC_V2
from lrs.vc.dataintegrity import ProofError
from lrs.vc.keys import did_key_document, public_key_from_multibase

# did -> its DID document (raises ProofError when it cannot be had).
DidResolver = Callable[[str], Awaitable[dict[str, Any]]]


def did_web_url(did: str) -> str:
    """Where a did:web's document lives (did:web method, §3.2 Read)."""
    parts = did.removeprefix("did:web:").split(":")
    host = unquote(parts[0])
    path = "/".join(parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


MAX_DID_DOCUMENT_BYTES = 64 * 1024
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


def did_web_host_refused(did: str) -> str | None:
    """Why the LRS will not fetch this did:web's document, or None. An import makes the
    server fetch a URL that a credential names: never an IP literal or a local name, so a
    crafted credential cannot make it probe the hosts beside it."""
    host = urlsplit(did_web_url(did)).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "an IP address"
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        return "a local host name"
    return None


async def _fetch_did_web(client: httpx2.AsyncClient, did: str) -> dict[str, Any]:
    url = did_web_url(did)
    refused = did_web_host_refused(did)
    if refused is not None:
        raise ProofError("$.issuer", f"{did}: its host is {refused}; not fetched")
    try:
        async with client.stream("GET", url, follow_redirects=False) as response:
            response.raise_for_status()
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DID_DOCUMENT_BYTES:
                    raise ProofError("$.issuer", f"{url} is larger than a DID document")
        document: Any = json.loads(body)
    except (httpx2.HTTPError, ValueError) as error:
        raise ProofError("$.issuer", f"cannot resolve {did} at {url}: {error}") from None
    if not isinstance(document, dict) or document.get("id") != did:
        raise ProofError("$.issuer", f"{url} is not the DID document of {did}")
    return document


def resolver(client: httpx2.AsyncClient | None = None) -> DidResolver:
    """did:key from the key itself; did:web over HTTPS with `client` (none: did:key only)."""

    async def resolve(did: str) -> dict[str, Any]:
        if did.startswith("did:key:"):
            try:
                return did_key_document(did)
            except ValueError as error:
                raise ProofError("$.issuer", f"{did}: {error}") from None
        if did.startswith("did:web:") and client is not None:
            return await _fetch_did_web(client, did)
        raise ProofError("$.issuer", f"cannot resolve {did!r}: only did:key and did:web are known")

    return resolve


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose proofs verified, and what was checked."""

    credential: dict[str, Any]
    issuer: str
    proofs: tuple[str, ...]  # "eddsa-rdfc-2022", "vc-jwt"
    nested: tuple[VerifiedCredential, ...] = field(default_factory=tuple)

    @property
    def types(self) -> list[str]:
        value = self.credential.get("type", [])
        return [value] if isinstance(value, str) else list(value)


def _issuer_did(credential: dict[str, Any], path: str) -> str:
    issuer = credential.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ProofError(f"{path}.issuer", "expected the issuer's DID (issuer.id)")
    return did


async def _method_key(
    did: str, method: str, resolve: DidResolver, path: str
) -> Ed25519PublicKey:
    # The key must be one the issuer's own DID document lists for assertions
    # (VC Data Integrity §4.3 step "verification method ... controller").
    if not method.startswith(did + "#"):
        raise ProofError(path, f"the key {method!r} is not one of the issuer {did!r}")
    document = await resolve(did)
    assertion = document.get("assertionMethod", [])
    if method not in assertion and method.removeprefix(did) not in assertion:
        raise ProofError(path, f"{did} does not list {method!r} for assertions")
    for entry in document.get("verificationMethod", []):
        if isinstance(entry, dict) and entry.get("id") in (method, method.removeprefix(did)):
            try:
                return public_key_from_multibase(str(entry.get("publicKeyMultibase", "")))
            except ValueError as error:
                raise ProofError(path, f"{method}: {error}") from None
    raise ProofError(path, f"{did}'s document has no verification method {method!r}")


def _moment(credential: dict[str, Any], key: str, path: str) -> datetime | None:
    if key not in credential:
        return None
    try:
        moment = datetime.fromisoformat(str(credential[key]).replace("Z", "+00:00"))
    except ValueError:
        raise ProofError(f"{path}.{key}", "expected an XML Schema dateTime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_period(credential: dict[str, Any], now: datetime, path: str) -> None:
    # VC 2.0 §4.9: validFrom / validUntil bound when the credential holds.
    start = _moment(credential, "validFrom", path)
    if start is None:
        raise ProofError(f"{path}.validFrom", "expected the date the credential holds from")
    if start > now:
        raise ProofError(f"{path}.validFrom", "the credential does not hold yet")
    end = _moment(credential, "validUntil", path)
    if end is not None and end <= now:
        raise ProofError(f"{path}.validUntil", "the credential no longer holds")


def _check_shape(credential: dict[str, Any], path: str) -> list[Any]:
    """The VC 2.0 context first (§4.3) and a type list with VerifiableCredential (§4.4)."""
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        raise ProofError(f"{path}.@context", f"expected {VC_V2!r} first (VC 2.0 §4.3)")
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise ProofError(f"{path}.type", "expected a list holding 'VerifiableCredential'")
    return types


async def _verify_document(
    credential: dict[str, Any], resolve: DidResolver, now: datetime, path: str
) -> VerifiedCredential:
    types = _check_shape(credential, path)
    did = _issuer_did(credential, path)
    proof = dataintegrity.proof_of(credential, path)
    key = await _method_key(did, proof["verificationMethod"], resolve, f"{path}.proof")
    await dataintegrity.off_loop(dataintegrity.verify_proof, credential, key, path)
    _check_period(credential, now, path)
    nested: list[VerifiedCredential] = []
    if "ClrCredential" in types:
        inner = (credential.get("credentialSubject") or {}).get("verifiableCredential")
        if not isinstance(inner, list) or not inner:
            raise ProofError(
                f"{path}.credentialSubject.verifiableCredential",
                "a ClrCredential bundles at least one credential (CLR 2.0 §B.1.3)",
            )
        for index, item in enumerate(inner):
            item_path = f"{path}.credentialSubject.verifiableCredential[{index}]"
            if not isinstance(item, dict):
                raise ProofError(item_path, "expected a signed credential object")
            nested.append(await _verify_document(item, resolve, now, item_path))
    return VerifiedCredential(credential, did, (dataintegrity.CRYPTOSUITE,), tuple(nested))


async def verify_credential(
    credential: dict[str, Any] | str,
    resolve: DidResolver,
    now: datetime | None = None,
    path: str = "$",
) -> VerifiedCredential:
    """Verify an OB 3.0 / CLR 2.0 credential: a JSON-LD document or a VC-JWT string.

    Checks the `eddsa-rdfc-2022` proof (and, for a VC-JWT, the JWS and its claims), that
    the signing key is one the issuer's DID lists for assertions, the validity period, and
    every credential a ClrCredential bundles. Raises ProofError naming the JSON path.
    """
    moment = now or datetime.now(UTC)
    if isinstance(credential, dict):
        return await _verify_document(credential, resolve, moment, path)
    header = vcjwt.header_of(credential)
    kid = header.get("kid")
    if not isinstance(kid, str) or "#" not in kid:
        raise ProofError(path, "the VC-JWT header has no kid naming the issuer's key")
    did = kid.split("#", 1)[0]
    key = await _method_key(did, kid, resolve, f"{path}.kid")
    try:
        payload = vcjwt.decode(credential, key)
    except ProofError as error:
        raise ProofError(f"{path}{error.path.removeprefix('$')}", error.message) from None
    if _issuer_did(payload, path) != did:
        raise ProofError(f"{path}.issuer", "the VC-JWT was signed by a key of another DID")
    if "proof" in payload:
        inner = await _verify_document(payload, resolve, moment, path)
        return VerifiedCredential(payload, did, ("vc-jwt", *inner.proofs), inner.nested)
    _check_shape(payload, path)
    _check_period(payload, moment, path)
    return VerifiedCredential(payload, did, ("vc-jwt",))
