"""Attachments: `multipart/mixed` statement requests and responses (Communication §1.5.2)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from statements.errors import InvalidRequest, Problem

_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


@dataclass(frozen=True)
class RawAttachment:
    """The bytes of one attachment, known by their SHA-2 (one stored copy per hash)."""

    sha2: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MultipartRequest:
    """The statements part of a multipart/mixed request and its attachment parts."""

    statements: bytes
    attachments: list[RawAttachment]


def media_type(content_type: str) -> str:
    """`multipart/mixed; boundary=x` → `multipart/mixed`."""
    return content_type.split(";")[0].strip().lower()


def parse_multipart(body: bytes, content_type: str) -> MultipartRequest:
    """Split a multipart/mixed statement request (RFC 2046) into its parts.

    The first part holds the statements as application/json; every other part is raw
    attachment data with an X-Experience-API-Hash header (Communication §1.5.2.s2.b2).
    """
    boundary = _boundary(content_type)
    parts = list(_parts(body, boundary))
    if not parts:
        raise _bad("the multipart body holds no parts")
    first_headers, statements = parts[0]
    if media_type(first_headers.get("content-type", "")) != "application/json":
        raise _bad("the first part must be the statements, as application/json")
    attachments: list[RawAttachment] = []
    for number, (headers, data) in enumerate(parts[1:], start=1):
        sha2 = headers.get("x-experience-api-hash", "").strip().lower()
        if not sha2:
            raise _bad(f"part {number} has no X-Experience-API-Hash header")
        encoding = headers.get("content-transfer-encoding", "binary").strip().lower()
        if encoding != "binary":  # Communication §1.5.2.s2.b2.b4
            raise _bad(f"part {number} has Content-Transfer-Encoding {encoding}, not binary")
        digest = _HASHES.get(len(sha2))
        if digest is None or digest(data).hexdigest() != sha2:
            raise _bad(f"part {number}'s bytes do not hash to its X-Experience-API-Hash")
        attachments.append(RawAttachment(sha2, headers.get("content-type",
                                                            "application/octet-stream"), data))
    return MultipartRequest(statements, attachments)


def declared(statements: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, attachment object) for every attachment the statements declare."""
    for index, statement in enumerate(statements):
        for number, attachment in enumerate(statement.get("attachments", ())):
            yield f"$[{index}].attachments[{number}]", attachment
        obj = statement.get("object", {})
        if obj.get("objectType") == "SubStatement":
            for number, attachment in enumerate(obj.get("attachments", ())):
                yield f"$[{index}].object.attachments[{number}]", attachment


def match_attachments(statements: Sequence[dict[str, Any]],
                      parts: Sequence[RawAttachment]) -> list[RawAttachment]:
    """Pair parts with declared attachments by SHA-2 only (Communication §1.5.2.s1.b4).

    Every attachment without a fileUrl needs a part (§1.5.2.s3.b5); a part no attachment
    declares is rejected. Returns one RawAttachment per distinct hash.
    """
    by_hash = {part.sha2: part for part in parts}
    wanted = set()
    for path, attachment in declared(statements):
        sha2 = attachment["sha2"].lower()
        wanted.add(sha2)
        if sha2 not in by_hash and "fileUrl" not in attachment:
            raise InvalidRequest("an attachment has neither a fileUrl nor a part with its data",
                                 (Problem(f"{path}.sha2", "no part has this hash"),))
    surplus = sorted(set(by_hash) - wanted)
    if surplus:
        raise _bad(f"a part with hash {surplus[0]} belongs to no attachment")
    return list(by_hash.values())


def render_multipart(first: bytes, attachments: Sequence[RawAttachment]) -> tuple[bytes, str]:
    """A multipart/mixed response: the JSON first, then each attachment once (§2.1.3.s2.b7)."""
    boundary = secrets.token_hex(16)
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first]
    for attachment in attachments:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {attachment.sha2}"
            "\r\n\r\n".encode())
        chunks.append(attachment.data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


def _boundary(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"')
    raise _bad("the Content-Type multipart/mixed has no boundary parameter")


def _parts(body: bytes, boundary: str) -> Iterator[tuple[dict[str, str], bytes]]:
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    segments = (b"\r\n" + body).split(delimiter)
    if len(segments) < 2:
        raise _bad("the body has no --boundary delimiter line")
    closed = False
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            closed = True
            break
        head, sep, data = segment.partition(b"\r\n\r\n")
        if not sep:
            raise _bad("a part has no blank line between its headers and its content")
        yield _headers(head), data
    if not closed:
        raise _bad("the body does not end with the closing --boundary-- line")


def _headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:  # [0]: padding after the delimiter
        name, sep, value = line.partition(":")
        if not sep:
            raise _bad(f"malformed part header {line!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(message, (Problem("body", message),))
