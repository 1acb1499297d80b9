"""Factories for assessed objectives and issuer keys (tests/lrs/vc)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lrs.vc.credentials import AssessedObjective, Evidence
from lrs.vc.issue import IssuedRecord, issue_record
from lrs.vc.keys import IssuerKey, load_issuer_key

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LEARNER = "mailto:lea.learner@example.org"


def make_objective(**overrides: Any) -> AssessedObjective:
    fields: dict[str, Any] = {
        "iri": "https://case.example.org/uri/6b4e2f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "title": "Runs a safe site induction",
        "description": "Briefs visitors on hazards, exits and PPE before they enter the site.",
        "framework": "Site Safety Competencies 2026",
        "outcome": "met",
        "assessed_at": datetime(2026, 11, 20, 14, 0, tzinfo=UTC),
        "assessor": "Max Manager",
        "comment": "Clear and thorough; ran three inductions unaided.",
        "code": "SSC.1.2",
        "evidence": (
            Evidence(
                name="Induction for the night shift",
                narrative="What happened: I inducted six contractors. What I learned: ...",
                genre="Reflection",
            ),
        ),
    }
    fields.update(overrides)
    return AssessedObjective(**fields)


def make_key(tmp_path: Path, did: str | None = None) -> IssuerKey:
    return load_issuer_key(None, did, tmp_path)


def make_record(key: IssuerKey, count: int = 2) -> IssuedRecord:
    objectives = [
        make_objective(iri=f"https://case.example.org/uri/objective-{i}", title=f"Objective {i}")
        for i in range(count)
    ]
    return issue_record(objectives, LEARNER, "Lea Learner", key, "Example Works", NOW)
