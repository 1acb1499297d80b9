"""Multipart statement requests (Communication §1.5.2) and signature checks (Data §2.6)."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from statements.attachments import (
    RawAttachment,
    match_attachments,
    parse_multipart,
    render_multipart,
)
from statements.errors import InvalidRequest
from statements.models import SIGNATURE_USAGE
from statements.signatures import check_signatures
from tests.factories import make_statement

BOUNDARY = "xyzzy"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"


def attachment_for(data: bytes, **overrides: Any) -> dict[str, Any]:
    """Attachment metadata describing `data`."""
    meta = {"usageType": "http://example.com/usage/report", "display": {"en-US": "report"},
            "contentType": "text/plain", "length": len(data),
            "sha2": hashlib.sha256(data).hexdigest()}
    meta.update(overrides)
    return meta


def multipart(first: bytes, *parts: tuple[dict[str, str], bytes],
              first_type: str = "application/json") -> bytes:
    chunks = [f"--{BOUNDARY}\r\nContent-Type: {first_type}\r\n\r\n".encode(), first]
    for headers, data in parts:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        chunks += [f"\r\n--{BOUNDARY}\r\n{head}\r\n".encode(), data]
    chunks.append(f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


def part(data: bytes, **headers: str) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": hashlib.sha256(data).hexdigest(), **headers}, data


DATA = b"here is a simple attachment\r\n--not a boundary\r\n"


def test_parse_multipart_splits_statements_and_parts() -> None:
    statement = make_statement(attachments=[attachment_for(DATA)])
    parsed = parse_multipart(multipart(orjson.dumps(statement), part(DATA)), CONTENT_TYPE)
    assert orjson.loads(parsed.statements) == statement
    assert parsed.attachments == [RawAttachment(hashlib.sha256(DATA).hexdigest(), "text/plain",
                                                DATA)]
    assert match_attachments([statement], parsed.attachments) == parsed.attachments


@pytest.mark.parametrize(("body", "content_type", "why"), [
    (multipart(b"{}", part(DATA)), "multipart/mixed", "no boundary parameter"),
    (multipart(b"{}", part(DATA)).replace(b"\r\n", b"\n"), CONTENT_TYPE, "LF line ends"),
    (multipart(b"{}", part(DATA))[:-12], CONTENT_TYPE, "no closing delimiter"),
    (multipart(b"{}", part(DATA), first_type="text/plain"), CONTENT_TYPE, "first not JSON"),
    (multipart(b"{}", ({"Content-Type": "text/plain"}, DATA)), CONTENT_TYPE, "no hash header"),
    (multipart(b"{}", part(DATA, **{"Content-Transfer-Encoding": "base64"})), CONTENT_TYPE,
     "base64 encoding"),
    (multipart(b"{}", part(DATA, **{"X-Experience-API-Hash": "ab" * 32})), CONTENT_TYPE,
     "bytes do not match the hash"),
])
def test_parse_multipart_rejects(body: bytes, content_type: str, why: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_multipart(body, content_type)


def test_match_attachments_needs_data_or_file_url() -> None:
    statement = make_statement(attachments=[attachment_for(DATA)])
    with pytest.raises(InvalidRequest, match="neither a fileUrl"):
        match_attachments([statement], [])
    with_url = make_statement(attachments=[attachment_for(DATA, fileUrl="http://e.com/f")])
    assert match_attachments([with_url], []) == []


def test_match_attachments_rejects_surplus_parts() -> None:
    parts = parse_multipart(multipart(b"{}", part(DATA)), CONTENT_TYPE).attachments
    with pytest.raises(InvalidRequest, match="belongs to no attachment"):
        match_attachments([make_statement()], parts)


def test_render_multipart_round_trips_through_the_parser() -> None:
    raw = RawAttachment(hashlib.sha256(DATA).hexdigest(), "text/plain", DATA)
    body, content_type = render_multipart(b'{"statements":[]}', [raw])
    parsed = parse_multipart(body, content_type)
    assert parsed.statements == b'{"statements":[]}' and parsed.attachments == [raw]


# --- signatures -------------------------------------------------------------------------

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jws(payload: dict[str, Any], alg: str = "RS256", key: rsa.RSAPrivateKey = KEY,
        x5c: str | None = None) -> bytes:
    header: dict[str, Any] = {"alg": alg}
    if x5c:
        header["x5c"] = [x5c]
    signing_input = b64(orjson.dumps(header)) + b"." + b64(orjson.dumps(payload))
    algorithm = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(),
                 "RS512": hashes.SHA512(), "HS256": hashes.SHA256()}[alg]
    return signing_input + b"." + b64(key.sign(signing_input, padding.PKCS1v15(), algorithm))


Signed = tuple[list[dict[str, Any]], dict[str, RawAttachment]]


def signed(token: bytes, statement: dict[str, Any],
           content_type: str = "application/octet-stream") -> Signed:
    """The arguments of check_signatures for `statement` signed with `token`."""
    meta = attachment_for(token, usageType=SIGNATURE_USAGE, contentType=content_type)
    with_signature = {**statement, "attachments": [meta]}
    return [with_signature], {meta["sha2"]: RawAttachment(meta["sha2"], content_type, token)}


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_check_signatures_accepts_a_valid_signature(alg: str) -> None:
    statement = make_statement(result={"duration": "PT1.2345S"})
    payload = {**statement, "result": {"duration": "PT1.23S"}}  # equal to 0.01 s
    check_signatures(*signed(jws(payload, alg, x5c=certificate(KEY)), statement))


@pytest.mark.parametrize(("make", "why"), [
    (lambda s: signed(jws(s, "HS256"), s), "algorithm not RS*"),
    (lambda s: signed(b"not.a-jws", s), "not decodable"),
    (lambda s: signed(b'{"payload": "json serialization"}', s), "not compact"),
    (lambda s: signed(jws({**s, "verb": {"id": "http://e.com/other"}}), s), "other statement"),
    (lambda s: signed(jws(s), s, content_type="text/plain"), "wrong content type"),
    (lambda s: signed(jws(s, x5c=certificate(OTHER_KEY)), s), "signed by another key"),
])
def test_check_signatures_rejects(make: Any, why: str) -> None:
    with pytest.raises(InvalidRequest):
        check_signatures(*make(make_statement()))
