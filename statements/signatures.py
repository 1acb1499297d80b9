"""Signed statements (Data §2.6, LRS book 4.2.6): JWS signature attachments, checked."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from statements.attachments import RawAttachment
from statements.equivalence import content_hash
from statements.errors import InvalidRequest, Problem
from statements.models import SIGNATURE_USAGE

_ALGORITHMS = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def check_signatures(statements: Sequence[dict[str, Any]],
                     attachments: Mapping[str, RawAttachment]) -> None:
    """Reject any statement whose signature attachment is not a valid JWS of it."""
    for index, statement in enumerate(statements):
        for number, attachment in enumerate(statement.get("attachments", ())):
            if attachment["usageType"] != SIGNATURE_USAGE:
                continue  # another usageType is an ordinary attachment
            path = f"$[{index}].attachments[{number}]"
            if attachment["contentType"] != "application/octet-stream":  # D2.6.s4.b1
                raise _bad(f"{path}.contentType",
                           "a signature attachment's contentType must be application/octet-stream")
            raw = attachments.get(attachment["sha2"].lower())
            if raw is None:
                continue  # only a fileUrl: nothing here to check
            _check_jws(raw.data, statement, path)


def _check_jws(token: bytes, statement: dict[str, Any], path: str) -> None:
    # Data §2.6.s4.b2 / LRS book 4.2.6: the compact serialization, header.payload.signature.
    pieces = token.strip().split(b".")
    if len(pieces) != 3:
        raise _bad(path, "the signature is not a JWS in compact serialization")
    try:
        header = orjson.loads(_b64(pieces[0]))
        payload = orjson.loads(_b64(pieces[1]))
        signature = _b64(pieces[2])
    except (binascii.Error, ValueError):
        raise _bad(path, "the signature's header, payload or signature cannot be decoded") \
            from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _bad(path, "the signature's header and payload must be JSON objects")
    algorithm = _ALGORITHMS.get(header.get("alg", ""))
    if algorithm is None:  # Data §2.6.s4.b4
        raise _bad(path, f"the signature algorithm must be RS256, RS384 or RS512, "
                         f"not {header.get('alg')!r}")
    # Data §2.6.s5.b3.b2: the payload is the statement, by the equivalence rules.
    try:
        equal = content_hash(payload) == content_hash(statement)
    except (KeyError, TypeError, AttributeError, ValueError):
        equal = False
    if not equal:
        raise _bad(path, "the signed payload does not match the statement")
    chain = header.get("x5c")
    if chain:  # Data §2.6.s5.b3.b3: verify with the first certificate's key
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            key = certificate.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("not an RSA key")
            key.verify(signature, pieces[0] + b"." + pieces[1], padding.PKCS1v15(),
                       algorithm())
        except (InvalidSignature, ValueError, TypeError, IndexError, binascii.Error):
            raise _bad(path, "the signature does not verify with its x5c certificate") \
                from None


def _b64(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def _bad(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, (Problem(path, message),))
