"""Importing an export: every credential in the zip verified, or the whole import refused."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from lrs.vc.dataintegrity import ProofError
from lrs.vc.export import CREDENTIALS_DIR
from lrs.vc.verify import DidResolver, VerifiedCredential, verify_credential
from statements.errors import InvalidRequest, Problem, TooLarge

MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_CREDENTIALS = 1000
BLOB_KIND = "credential"  # the kind of the space blobs imported credentials are kept as
# Imported credentials keep their id across re-imports (the same archive twice: no copies).
_NAMESPACE = uuid.UUID("0b6f3a1e-7b8c-4f55-9a3e-5d2b8c1e9f70")


@dataclass(frozen=True)
class ImportedCredential:
    """One credential of the archive that verified, with where it came from."""

    file: str
    verified: VerifiedCredential
    jwt: str | None = None

    @property
    def blob_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, str(self.verified.credential.get("id", self.file))))

    def blob(self, now: datetime) -> bytes:
        """What the new space keeps: the credential, its VC-JWT and what was checked."""
        return orjson.dumps({
            "credential": self.verified.credential,
            "jwt": self.jwt,
            "verification": {
                "issuer": self.verified.issuer,
                "proofs": list(self.verified.proofs),
                "verified": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "file": self.file,
            },
        })


def _members(body: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile:
        raise InvalidRequest("the body is not a zip archive", (
            Problem("$", "expected the zip that GET /api/v1/space/export gives"),)) from None
    infos = [i for i in archive.infolist()
             if i.filename.startswith(CREDENTIALS_DIR) and not i.is_dir()]
    if len(infos) > MAX_CREDENTIALS * 2:
        raise TooLarge(f"at most {MAX_CREDENTIALS} credentials in one import")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise TooLarge(f"the credentials unpack to more than {MAX_UNPACKED_BYTES} bytes")
    try:
        return {i.filename: archive.read(i) for i in infos}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise InvalidRequest("the zip archive is damaged", (Problem("$", str(error)),)) from None


async def verify_archive(
    body: bytes, resolve: DidResolver, now: datetime | None = None
) -> list[ImportedCredential]:
    """Verify every credential under credentials/ of an export (JSON-LD and VC-JWT alike).

    Returns the JSON-LD credentials (each with its VC-JWT, which must verify and carry the
    same credential). Raises InvalidRequest listing every file that does not verify, by
    file and JSON path: nothing is imported unless everything verifies.
    """
    members = _members(body)
    problems: list[Problem] = []
    imported: list[ImportedCredential] = []
    for name in sorted(n for n in members if n.endswith(".json")):
        try:
            document: Any = orjson.loads(members[name])
        except orjson.JSONDecodeError as error:
            problems.append(Problem(name, f"not JSON ({error})"))
            continue
        if not isinstance(document, dict):
            problems.append(Problem(f"{name}:$", "expected a credential object"))
            continue
        try:
            verified = await verify_credential(document, resolve, now)
        except ProofError as error:
            problems.append(Problem(f"{name}:{error.path}", error.message))
            continue
        token = members.get(name.removesuffix(".json") + ".jwt")
        jwt = token.decode("ascii", "replace").strip() if token is not None else None
        if jwt is not None:
            try:
                from_jwt = await verify_credential(jwt, resolve, now)
            except ProofError as error:
                problems.append(Problem(f"{name.removesuffix('.json')}.jwt:{error.path}",
                                        error.message))
                continue
            if from_jwt.credential != document:
                problems.append(Problem(f"{name.removesuffix('.json')}.jwt:$",
                                        f"the VC-JWT carries another credential than {name}"))
                continue
        imported.append(ImportedCredential(name, verified, jwt))
    for name in sorted(n for n in members if n.endswith(".jwt")):
        if name.removesuffix(".jwt") + ".json" not in members:
            problems.append(Problem(name, "a VC-JWT without its .json credential"))
    if not problems and not imported:
        problems.append(Problem(CREDENTIALS_DIR, "the archive holds no credential"))
    if problems:
        raise InvalidRequest("credentials that do not verify: nothing was imported",
                             tuple(problems))
    return imported
