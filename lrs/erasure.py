"""Purge (retention periods) and forget (erase a person), used by the CLI, the admin API and
the scheduled purge; both leave a record in the audit log (docs/retention.md)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lrs import erasure_traces as traces
from lrs.background import every
from lrs.config import Settings
from lrs.erasure_files import scrub_file
from lrs.people import Person
from lrs.space import history_service as own_history
from lrs.storage import Storage
from plugins.catalogue import Catalogue
from plugins.retention import DAY_MS, RetentionPolicy
from statements.enrich import StoredStatement
from statements.erasure import (
    DELETE,
    AuditRecord,
    Change,
    KeptStatement,
    Plan,
    agent_keys_anywhere,
    attachment_hashes,
    canonical_key,
    erasure_keys,
    identifiers,
    plan_erasure,
)

log = logging.getLogger("lrs.erasure")
PURGE_BATCH = 500


def retention_policy(settings: Settings, catalogue: Catalogue) -> RetentionPolicy:
    """The retention periods configured: the catalogue's and the settings'."""
    return RetentionPolicy(catalogue, settings.retention_verb_days,
                           settings.retention_default_days)


@dataclass
class PurgeReport:
    """What a purge removed (or, dry, would remove), per retention class."""

    dry_run: bool
    by_class: Counter[str] = field(default_factory=Counter)
    done: Counter[str] = field(default_factory=Counter)
    quarantine: int = 0  # quarantined statements past their credential's quarantine_days

    @property
    def statements(self) -> int:
        """Statements past their period."""
        return sum(self.by_class.values())


async def purge(storage: Storage, policy: RetentionPolicy, *, now_ms: int, operator: str,
                dry_run: bool = False, batch: int = PURGE_BATCH) -> PurgeReport:
    """Delete the kept statements whose retention period has passed, `batch` at a time,
    each batch in one transaction with its audit counts."""
    report = PurgeReport(dry_run)
    audit = AuditRecord(str(uuid.uuid4()), "purge", now_ms, operator)
    report.quarantine = await storage.quarantine.purge(now_ms, dry_run=dry_run)
    if report.quarantine and not dry_run:
        await storage.erasure.record(AuditRecord(
            audit.run_id, "purge", now_ms, operator,
            counts={"quarantine_expired": report.quarantine}))
    if not dry_run:  # the keys of expired grants (lrs.sharing), if no request destroyed them
        await storage.grants.destroy_expired(datetime.fromtimestamp(now_ms / 1000, UTC))
    shortest = policy.shortest_days()
    if shortest is None:
        return report
    after: tuple[int, str] | None = None
    while True:
        page = await storage.erasure.stored_before(now_ms - shortest * DAY_MS, after, batch)
        if not page:
            return report
        after = (page[-1].stored_ms, page[-1].id)
        due: list[KeptStatement] = []
        classes: Counter[str] = Counter()
        for kept in page:
            found = policy.expired(kept.statement, kept.stored_ms, now_ms)
            if found is not None:
                due.append(kept)
                classes[found.name] += 1
        if not due:
            continue
        report.by_class.update(classes)
        if dry_run:
            continue
        hashes = set().union(*(attachment_hashes(k.statement) for k in due))
        done = await storage.erasure.apply(
            Change(delete=due, attachments=hashes),
            AuditRecord(audit.run_id, audit.action, audit.at_ms, audit.operator,
                        counts={f"class {name}": n for name, n in classes.items()}))
        report.done.update(done)


@dataclass
class ForgetReport:
    """What erasing one person did (or, dry, would do), and when they were erased before."""

    done: dict[str, int]
    earlier: list[int]  # the times (ms) of earlier erasures of the same agent
    dry_run: bool = False
    credentials: list[str] = field(default_factory=list)  # keys revoked and scrubbed
    files: dict[str, str] = field(default_factory=dict)  # path -> "rewritten" | "deleted"


async def subject_hash(storage: Storage, key: str) -> str:
    """The audit log's keyed hash of an agent key (HMAC-SHA256 with the store's secret, of
    the key's canonical form: an mbox is recorded as its mbox_sha1sum)."""
    return _keyed(await storage.erasure.secret(), canonical_key(key))


def _keyed(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ErasedPeople:
    """The people erased so far, known only by the audit log's keyed hashes: what `lrs
    import` screens a file against, so that loading an old export does not bring back a
    person who has been forgotten since."""

    secret: bytes
    subjects: frozenset[str]

    def plan(self, statement: dict[str, Any]) -> Plan:
        """What forget would do to this statement for the erased people in it: DELETE, the
        statement rewritten without them, or None (none of them is in it)."""
        if not self.subjects:
            return None
        erased = [key for key in agent_keys_anywhere(statement)
                  # the key as given (records made before keys were canonical) or canonical
                  if {_keyed(self.secret, key), _keyed(self.secret, canonical_key(key))}
                  & self.subjects]
        if not erased:
            return None
        try:
            return plan_erasure(statement, frozenset().union(*map(erasure_keys, erased)))
        except (AttributeError, KeyError, TypeError):
            return None  # not a valid statement: the import rejects it, storing nothing


async def erased_people(storage: Storage) -> ErasedPeople:
    """Everyone the audit log records as forgotten."""
    return ErasedPeople(await storage.erasure.secret(), frozenset(
        r.subject for r in await storage.erasure.audit_log()
        if r.action == "forget" and r.subject))


async def forget(storage: Storage, key: str | Sequence[str], *, now_ms: int, operator: str,
                 dry_run: bool = False, files: Sequence[Path] = ()) -> ForgetReport:
    """Erase the person with agent key `key` (or these several keys, one person's): delete
    the statements they are the actor of, rewrite those they otherwise appear in, delete
    their State and Agent Profile documents, the attachments no statement refers to any
    more and their quarantined statements; destroy their space (its key, then its blobs);
    delete their grants and share links and the grants to them (lrs.sharing);
    revoke and scrub the credentials bound to them;
    take them out of the audit log's earlier entries and out of `files`
    (lrs.erasure_files.files_to_scan). The audit log records the erasure under the keyed
    hash of each key, never the key. `dry_run` only says what would go."""
    given = [key] if isinstance(key, str) else list(dict.fromkeys(key))
    keys = frozenset().union(*map(erasure_keys, given))
    needles = identifiers(keys)
    secret = await storage.erasure.secret()
    subjects = [_keyed(secret, canonical_key(k)) for k in given]  # subject_hash, secret at hand
    earlier: set[int] = set()
    for one, subject in zip(given, subjects, strict=True):
        earlier.update(r.at_ms for r in await storage.erasure.audit_log(subject))
        if (as_given := _keyed(secret, one)) != subject:
            # Recorded before mbox keys were recorded in their canonical form.
            earlier.update(r.at_ms for r in await storage.erasure.audit_log(as_given))
    delete: list[KeptStatement] = []
    rewrite: list[tuple[KeptStatement, StoredStatement]] = []
    for kept in await storage.erasure.involving(keys):
        plan = plan_erasure(kept.statement, keys)
        if plan == DELETE:
            delete.append(kept)
        elif isinstance(plan, dict):
            rewrite.append((kept, StoredStatement(kept.id, kept.stored_ms, plan, "")))
    credentials = await traces.bound_credentials(storage, keys, needles)

    def theirs(person: Person) -> bool:
        return traces.signed_in_as(person, keys, needles)

    sessions = await storage.sessions.delete_where(theirs, dry_run=True)
    # Their space (lrs.space), under the canonical form of any of their keys.
    spaces = [owner for owner in sorted({canonical_key(k) for k in keys})
              if await storage.space.key_of(owner) is not None]
    # Their grants and share links, and the grants to them, with those grants' reads
    # (lrs.sharing), under the same canonical keys.
    identities = sorted({canonical_key(k) for k in keys})
    grants = sum([await storage.grants.erase_person(i, dry_run=True) for i in identities])
    entries = await traces.quarantined(storage, keys, needles)
    history = await storage.erasure.audit_log()
    scrubbed = traces.audit_mentions(history, needles, credentials)
    changed: dict[str, str] = {str(path): outcome for path in files
               if (outcome := scrub_file(path, needles, dry_run=True)) is not None}
    report = ForgetReport({}, sorted(earlier), dry_run, [c.key for c in credentials], changed)
    extra = {"credentials_revoked": len(credentials), "quarantine_deleted": len(entries),
             "audit_entries_scrubbed": len(scrubbed), "files_changed": len(changed),
             "sessions_ended": sessions, "spaces_destroyed": len(spaces),
             "grants_deleted": grants}
    # My own history (lrs.space.history_service): their opt-in, the copies waiting in the
    # buffer and the batches in their space; named in the report only when there were any.
    kept_history = {name: n for name, n in (await own_history.forget(
        storage.history, storage.space, keys, dry_run=True)).items() if n}
    extra.update(kept_history)
    if dry_run:
        report.done = {"statements_deleted": len(delete), "statements_rewritten": len(rewrite),
                       "documents_deleted": await storage.erasure.documents_of(keys),
                       "attachments_deleted": 0, **extra}
        return report
    # Everything but the store first: a failure part-way leaves the audit record unwritten,
    # and running forget again finishes the job (each step is idempotent).
    for path in files:
        scrub_file(path, needles)
    await traces.scrub_credentials(storage, credentials, keys, needles, now_ms)
    await storage.sessions.delete_where(theirs)  # signed in as them: the session ends
    if kept_history:  # before the space goes: its opt-in and buffer rows go with it
        extra.update({name: n for name, n in (
            await own_history.forget(storage.history, storage.space, keys)).items() if n})
    for owner in spaces:  # the key first: every copy of the blobs becomes unreadable
        await storage.space.destroy(owner)
    for identity in identities:
        await storage.grants.erase_person(identity)
    await storage.quarantine.remove([e.id for e in entries])
    await storage.erasure.rewrite_audit(scrubbed)
    hashes = set().union(*(attachment_hashes(k.statement) for k in delete))
    run_id = str(uuid.uuid4())
    done = await storage.erasure.apply(
        Change(delete=delete, rewrite=rewrite, document_agents=keys, attachments=hashes),
        AuditRecord(run_id, "forget", now_ms, operator, subjects[0], counts=extra,
                    detail={"identifiers": str(len(subjects))} if len(subjects) > 1 else {}))
    for subject in subjects[1:]:  # one record per identifier, so each is found again
        await storage.erasure.record(AuditRecord(
            str(uuid.uuid4()), "forget", now_ms, operator, subject,
            detail={"with": run_id, "identifiers": str(len(subjects))}))
    await storage.erasure.compact()
    report.done = {**done, **extra}
    return report


def scheduled_purge(settings: Settings, storage: Storage, catalogue: Callable[[], Catalogue],
                    now_ms: Callable[[], int]) -> AbstractAsyncContextManager[None]:
    """Run `purge` every `purge_interval_minutes` while the app runs (off when 0)."""
    async def step() -> None:
        report = await purge(storage, retention_policy(settings, catalogue()),
                             now_ms=now_ms(), operator="schedule")
        log.info("scheduled purge removed %d statements", report.statements)

    return every(settings.purge_interval_minutes, step, log=log, what="scheduled purge")
