"""Signed statements (Data §2.6, LRS book 4.2.6): JWS signature attachments, checked."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
import orjson
from cryptography import x509
from jwt.api_jws import PyJWS

from statements.attachments import RawAttachment
from statements.equivalence import content_hash
from statements.errors import InvalidRequest, Problem
from statements.models import SIGNATURE_USAGE

_ALGORITHMS = ("RS256", "RS384", "RS512")
_JWS = PyJWS(algorithms=list(_ALGORITHMS))


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
    try:
        unverified = _JWS.decode_complete(token.strip(), options={"verify_signature": False})
        payload = orjson.loads(unverified["payload"])
    except (jwt.InvalidTokenError, orjson.JSONDecodeError):
        raise _bad(path, "the signature is not a JWS in compact serialization with a JSON "
                         "payload") from None
    header = unverified["header"]
    if header.get("alg") not in _ALGORITHMS:  # Data §2.6.s4.b4
        raise _bad(path, f"the signature algorithm must be RS256, RS384 or RS512, "
                         f"not {header.get('alg')!r}")
    # Data §2.6.s5.b3.b2: the payload is the statement, by the equivalence rules.
    try:
        equal = isinstance(payload, dict) and content_hash(payload) == content_hash(statement)
    except (KeyError, TypeError, AttributeError, ValueError):
        equal = False
    if not equal:
        raise _bad(path, "the signed payload does not match the statement")
    chain = header.get("x5c")
    if chain:  # Data §2.6.s5.b3.b3: verify with the first certificate's key
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            _JWS.decode_complete(token.strip(), key=certificate.public_key(),  # type: ignore[arg-type]  # RSA keys only: alg is RS*
                                 algorithms=[header["alg"]])
        except (jwt.InvalidTokenError, ValueError, TypeError, IndexError, binascii.Error):
            raise _bad(path, "the signature does not verify with its x5c certificate") \
                from None


def _bad(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, (Problem(path, message),))
