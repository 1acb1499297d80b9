"""Issue a learner's record: a signed OB 3.0 badge per met objective and a CLR bundling them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lrs.vc import dataintegrity, vcjwt
from lrs.vc.credentials import AssessedObjective, Issuer, clr, iso, open_badge
from lrs.vc.keys import IssuerKey


@dataclass(frozen=True)
class IssuedRecord:
    """What an export carries: each credential as signed JSON-LD and as a VC-JWT."""

    badges: list[dict[str, Any]]
    badge_jwts: list[str]
    clr: dict[str, Any] | None
    clr_jwt: str | None


def sign(credential: dict[str, Any], key: IssuerKey, created: datetime) -> dict[str, Any]:
    """The credential with its `eddsa-rdfc-2022` Data Integrity proof."""
    return dataintegrity.add_proof(
        credential, key.private_key, key.verification_method, iso(created)
    )


def as_jwt(signed: dict[str, Any], key: IssuerKey) -> str:
    """The signed credential (its Data Integrity proof kept, OB 3.0 §8.2) as a VC-JWT."""
    return vcjwt.encode(signed, key.private_key, key.verification_method)


def issue_record(
    objectives: Sequence[AssessedObjective],
    learner_id: str,
    learner_name: str,
    key: IssuerKey,
    organisation: str,
    now: datetime,
    organisation_url: str | None = None,
) -> IssuedRecord:
    """Sign a badge for each objective assessed as met, and a CLR bundling them.

    Objectives not (yet) met get no credential: a badge asserts an achievement. With no
    met objective there is no CLR (CLR 2.0 §B.1.3 needs at least one credential).
    """
    issuer = Issuer(key.did, organisation, organisation_url)
    badges = [
        sign(open_badge(objective, learner_id, issuer), key, now)
        for objective in objectives
        if objective.outcome == "met"
    ]
    jwts = [as_jwt(badge, key) for badge in badges]
    if not badges:
        return IssuedRecord([], [], None, None)
    record = sign(clr(badges, learner_id, learner_name, issuer, now), key, now)
    return IssuedRecord(badges, jwts, record, as_jwt(record, key))
