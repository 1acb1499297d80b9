"""The issuer's Ed25519 key, its DID (did:key or did:web) and its DID document."""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from lrs.vc.contexts import MULTIKEY_V1

# Multicodec prefixes (varint) of a Multikey (Controlled Identifiers 1.0, §2.2.2):
# ed25519-pub 0xed, ed25519-priv 0x1300.
ED25519_PUB_PREFIX = b"\xed\x01"
DID_V1 = "https://www.w3.org/ns/did/v1"
KEY_FILE_NAME = "vc-issuer-key.pem"


class IssuerKeyError(ValueError):
    """The configured issuer key or DID cannot be used."""


def multibase_base58btc(data: bytes) -> str:
    """Multibase base58btc: the 'z' prefix and Bitcoin-alphabet base58."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_multibase_base58btc(value: str) -> bytes:
    """The bytes of a multibase base58btc string; ValueError when it is not one."""
    if not value.startswith("z"):
        raise ValueError("not multibase base58btc (no 'z' prefix)")
    return base58.b58decode(value[1:])


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """The Multikey `publicKeyMultibase` of an Ed25519 public key (z6Mk...)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase_base58btc(ED25519_PUB_PREFIX + raw)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """The Ed25519 public key of a Multikey `publicKeyMultibase`; ValueError otherwise."""
    decoded = decode_multibase_base58btc(value)
    if not decoded.startswith(ED25519_PUB_PREFIX) or len(decoded) != 34:
        raise ValueError("not an Ed25519 Multikey (multicodec 0xed01, 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of a did:key (did:key method, §3.1.2), built without any lookup."""
    multibase = did.removeprefix("did:key:")
    public_key_from_multibase(multibase)  # raises ValueError for anything but Ed25519
    return _document(did, f"{did}#{multibase}", multibase)


def _document(did: str, method_id: str, multibase: str) -> dict[str, Any]:
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multibase,
            }
        ],
        "assertionMethod": [method_id],
        "authentication": [method_id],
    }


@dataclass(frozen=True)
class IssuerKey:
    """The organisation's signing key and the DID that names it."""

    private_key: Ed25519PrivateKey
    did: str

    @property
    def public_key_multibase(self) -> str:
        return public_key_multibase(self.private_key.public_key())

    @property
    def verification_method(self) -> str:
        """The DID URL of the key: `<did>#<publicKeyMultibase>`."""
        return f"{self.did}#{self.public_key_multibase}"

    def did_document(self) -> dict[str, Any]:
        """The DID document (served at /.well-known/did.json when the DID is did:web)."""
        return _document(self.did, self.verification_method, self.public_key_multibase)

    def public_jwk(self) -> dict[str, str]:
        """The public key as an OKP JWK (RFC 8037), for VC-JWT verifiers."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return {"kty": "OKP", "crv": "Ed25519", "x": x}


def did_key_for(private_key: Ed25519PrivateKey) -> str:
    """The did:key of an Ed25519 key (did:key method, §3.1.1)."""
    return "did:key:" + public_key_multibase(private_key.public_key())


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PKCS#8 PEM or a base64url 32-byte seed."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except ValueError as error:
            raise IssuerKeyError(f"LRS_VC_ISSUER_KEY: not a readable PEM key ({error})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise IssuerKeyError("LRS_VC_ISSUER_KEY: the PEM key is not an Ed25519 key")
        return key
    try:
        seed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise IssuerKeyError(
            "LRS_VC_ISSUER_KEY: expected an Ed25519 PKCS#8 PEM or a base64url 32-byte seed"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _load_or_create_key_file(path: Path) -> Ed25519PrivateKey:
    # Written whole to a temporary file, then linked into place: link() fails when the
    # file exists, so two workers starting together agree on one key, and none ever reads
    # a half-written one.
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.link(temporary, path)
        except FileExistsError:
            pass
        else:
            return key
        finally:
            temporary.unlink(missing_ok=True)
    return parse_private_key(path.read_text("ascii"))


def load_issuer_key(
    configured_key: str | None, configured_did: str | None, data_dir: Path
) -> IssuerKey:
    """The issuer key from configuration, else the data dir's key file (made on first use).

    The DID is `configured_did` (a did:web) when given, else the key's did:key.
    """
    if configured_key:
        private_key = parse_private_key(configured_key)
    else:
        private_key = _load_or_create_key_file(data_dir / KEY_FILE_NAME)
    if configured_did is None:
        return IssuerKey(private_key, did_key_for(private_key))
    if not configured_did.startswith("did:web:") or len(configured_did) <= len("did:web:"):
        raise IssuerKeyError(
            f"LRS_VC_ISSUER_DID: {configured_did!r} is not a did:web (did:web:<host>)"
        )
    return IssuerKey(private_key, configured_did)
