"""Open Badges 3.0 and CLR 2.0 credentials (W3C VC 2.0) built from assessed objectives."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lrs.vc.contexts import CLR_V2P0, OB_V3P0, VC_V2


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence, embedded in the credential (OB 3.0 §B.1.8 Evidence)."""

    name: str
    narrative: str = ""
    description: str = ""
    genre: str = ""
    url: str | None = None


@dataclass(frozen=True)
class AssessedObjective:
    """An objective a manager assessed for a learner: what a credential is issued for."""

    iri: str  # the CASE CFItem IRI (or the framework's own IRI for the objective)
    title: str
    description: str
    framework: str
    outcome: str  # "met" | "not-yet"
    assessed_at: datetime
    assessor: str  # the assessor's name as the sign-in gave it
    comment: str = ""
    code: str | None = None  # CASE humanCodingScheme
    evidence: Sequence[Evidence] = field(default_factory=tuple)


@dataclass(frozen=True)
class Issuer:
    """The issuing organisation (OB 3.0 §B.1.14 Profile)."""

    did: str
    name: str
    url: str | None = None

    def profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.did, "type": ["Profile"], "name": self.name}
        if self.url:
            profile["url"] = self.url
        return profile


def iso(moment: datetime) -> str:
    """An XML Schema dateTime in UTC with a Z, seconds precision (VC 2.0 §4.9)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(item: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Evidence"], "name": item.name}
    if item.url:
        out["id"] = item.url
    for key, value in (
        ("narrative", item.narrative),
        ("description", item.description),
        ("genre", item.genre),
    ):
        if value:
            out[key] = value
    return out


def achievement(objective: AssessedObjective) -> dict[str, Any]:
    """The OB 3.0 Achievement for an objective, aligned to its CASE item (§B.1.1, §B.1.3)."""
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetName": objective.title,
        "targetUrl": objective.iri,
        "targetType": "CFItem",
        "targetFramework": objective.framework,
    }
    if objective.description:
        alignment["targetDescription"] = objective.description
    if objective.code:
        alignment["targetCode"] = objective.code
    return {
        "id": objective.iri,
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": objective.title,
        "description": objective.description or objective.title,
        "criteria": {
            "narrative": f"Assessed as met against '{objective.title}' "
            f"({objective.framework}) by a manager reviewing the learner's evidence."
        },
        "alignment": [alignment],
    }


def open_badge(
    objective: AssessedObjective,
    learner_id: str,
    issuer: Issuer,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """An unsigned OB 3.0 OpenBadgeCredential for one assessed objective (OB 3.0 §B.1.4).

    `learner_id` is the learner's URI (credentialSubject.id, the VC-JWT `sub`).
    """
    evidence = [_evidence(item) for item in objective.evidence]
    assessment = f"Assessed by {objective.assessor}: {objective.outcome}"
    evidence.append(
        {
            "type": ["Evidence"],
            "name": "Assessment",
            "genre": "Assessment",
            "narrative": f"{assessment}. {objective.comment}".strip()
            if objective.comment
            else assessment,
        }
    )
    when = iso(objective.assessed_at)
    return {
        "@context": [VC_V2, OB_V3P0],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.profile(),
        "validFrom": when,
        "awardedDate": when,
        "name": objective.title,
        "credentialSubject": {
            "id": learner_id,
            "type": ["AchievementSubject"],
            "achievement": achievement(objective),
        },
        "evidence": evidence,
    }


def clr(
    signed_badges: Sequence[dict[str, Any]],
    learner_id: str,
    learner_name: str,
    issuer: Issuer,
    issued_at: datetime,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """An unsigned CLR 2.0 ClrCredential bundling signed badges (CLR 2.0 §B.1.3 ClrSubject)."""
    if not signed_badges:
        raise ValueError("a ClrCredential bundles at least one credential (CLR 2.0 §B.1.3)")
    return {
        "@context": [VC_V2, CLR_V2P0, OB_V3P0],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer.profile(),
        "validFrom": iso(issued_at),
        "name": f"Learning record of {learner_name}",
        "credentialSubject": {
            "id": learner_id,
            "type": ["ClrSubject"],
            "achievement": [badge["credentialSubject"]["achievement"] for badge in signed_badges],
            "verifiableCredential": list(signed_badges),
        },
    }
