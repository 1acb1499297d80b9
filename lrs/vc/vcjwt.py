"""VC-JWT as Open Badges 3.0 §8.2 "JSON Web Token Proof Format" defines it (joserfc, Ed25519)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from lrs.vc.dataintegrity import ProofError

# OB 3.0 §8.2.3 asks for RS256 at minimum and permits others; the issuer's one key is
# Ed25519, the same key that signs the Data Integrity proof. "Ed25519" is RFC 9864's
# fully specified name for what RFC 8037 called "EdDSA" (deprecated by RFC 9864).
ALGORITHM = "Ed25519"
# A CLR's payload holds every badge it bundles, each with its own Data Integrity proof:
# about 3.8 KB a badge, so joserfc's default 128,000 bytes stop at ~33 objectives met. The
# import reads at most 50 MiB of credentials (lrs.vc.imports); one token may hold 16 MiB.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


@cache
def _registry() -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=[ALGORITHM])
    registry.max_payload_length = MAX_PAYLOAD_BYTES
    return registry


def _okp(key: Ed25519PrivateKey | Ed25519PublicKey) -> OKPKey:
    return OKPKey.import_key(key)


def _numeric_date(value: str, path: str) -> int:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ProofError(path, f"expected an XML Schema dateTime, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def claims_for(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential plus iss, jti, nbf, sub (and exp) (OB 3.0 §8.2.4.1)."""
    claims = dict(credential)
    claims["iss"] = _issuer_id(credential)
    claims["jti"] = credential["id"]
    claims["nbf"] = _numeric_date(credential["validFrom"], "$.validFrom")
    claims["sub"] = credential["credentialSubject"]["id"]
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"], "$.validUntil")
    return claims


def encode(credential: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    """The credential as a Compact JWS (OB 3.0 §8.2.5), header {alg, kid, typ: JWT}."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": "JWT"}
    return jwt.encode(header, claims_for(credential), _okp(private_key), registry=_registry())


def header_of(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS, before any key is known (to find `kid`)."""
    try:
        return dict(jws.extract_compact(token.encode("ascii"), registry=_registry()).protected)
    except (JoseError, ValueError, UnicodeError):
        raise ProofError("$", "not a compact JWS (three base64url parts)") from None


def decode(token: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Verify a VC-JWT and return the credential (OB 3.0 §8.2.6 and §8.2.6.1).

    Raises ProofError when the signature fails or a claim disagrees with the credential.
    """
    try:
        decoded = jwt.decode(token, _okp(public_key), registry=_registry())
    except (JoseError, ValueError) as error:
        raise ProofError("$", f"the VC-JWT signature does not verify ({error})") from None
    claims = dict(decoded.claims)
    credential = {k: v for k, v in claims.items() if k not in ("iss", "jti", "nbf", "sub", "exp")}
    if "vc" in credential and "@context" not in credential:
        raise ProofError("$.vc", "VC 1.1 JWTs (a `vc` claim) are not accepted")
    expected = {
        "iss": _issuer_id(credential),
        "jti": credential.get("id"),
        "sub": (credential.get("credentialSubject") or {}).get("id"),
    }
    for claim, value in expected.items():
        if claims.get(claim) != value:
            raise ProofError(
                f"$.{claim}", f"the JWT claim does not match the credential ({value!r})"
            )
    if claims.get("nbf") != _numeric_date(credential.get("validFrom", ""), "$.validFrom"):
        raise ProofError("$.nbf", "the JWT claim does not match the credential's validFrom")
    has_end = "exp" in claims or "validUntil" in credential
    if has_end and claims.get("exp") != _numeric_date(
        credential.get("validUntil", ""), "$.validUntil"
    ):
        raise ProofError("$.exp", "the JWT claim does not match the credential's validUntil")
    return credential
