"""Writing admin and compliance actions to the one audit log (statements.erasure.AuditRecord)."""

from __future__ import annotations

import uuid

from lrs.erasure import subject_hash
from lrs.storage import Storage
from statements.erasure import AuditAction, AuditRecord


async def record_action(storage: Storage, action: AuditAction, *, operator: str, now_ms: int,
                        detail: dict[str, str] | None = None,
                        counts: dict[str, int] | None = None,
                        person: str | None = None) -> None:
    """Add one record. `person` is an agent key when the action concerns one learner (an
    evidence export for them): only its keyed hash is written, as an erasure writes it."""
    subject = await subject_hash(storage, person) if person is not None else None
    await storage.erasure.record(AuditRecord(
        str(uuid.uuid4()), action, now_ms, operator, subject, dict(counts or {}),
        dict(detail or {})))
