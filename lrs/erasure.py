"""Purge (retention periods) and forget (erase a person), used by the CLI, the admin API and
the scheduled purge; both leave a record in the audit log (docs/retention.md)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from lrs.config import Settings
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

    @property
    def statements(self) -> int:
        """Statements past their period."""
        return sum(self.by_class.values())


async def purge(storage: Storage, policy: RetentionPolicy, *, now_ms: int, operator: str,
                dry_run: bool = False, batch: int = PURGE_BATCH) -> PurgeReport:
    """Delete the kept statements whose retention period has passed, `batch` at a time,
    each batch in one transaction with its audit counts."""
    report = PurgeReport(dry_run)
    shortest = policy.shortest_days()
    if shortest is None:
        return report
    audit = AuditRecord(str(uuid.uuid4()), "purge", now_ms, operator)
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
    """What erasing one person did, and when the same person was erased before."""

    done: dict[str, int]
    earlier: list[int]  # the times (ms) of earlier erasures of the same agent


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


async def forget(storage: Storage, key: str, *, now_ms: int, operator: str) -> ForgetReport:
    """Erase the person with agent key `key`: in one transaction, delete the statements
    they are the actor of, rewrite those they otherwise appear in, delete their State and
    Agent Profile documents and the attachments no statement refers to any more."""
    keys = erasure_keys(key)
    secret = await storage.erasure.secret()
    subject = _keyed(secret, canonical_key(key))  # subject_hash, with the secret at hand
    earlier = [r.at_ms for r in await storage.erasure.audit_log(subject)]
    if (as_given := _keyed(secret, key)) != subject:
        # Recorded before mbox keys were recorded in their canonical form.
        earlier = sorted(earlier + [r.at_ms for r in await storage.erasure.audit_log(as_given)])
    delete: list[KeptStatement] = []
    rewrite: list[tuple[KeptStatement, StoredStatement]] = []
    for kept in await storage.erasure.involving(keys):
        plan = plan_erasure(kept.statement, keys)
        if plan == DELETE:
            delete.append(kept)
        elif isinstance(plan, dict):
            rewrite.append((kept, StoredStatement(kept.id, kept.stored_ms, plan, "")))
    hashes = set().union(*(attachment_hashes(k.statement) for k in delete))
    done = await storage.erasure.apply(
        Change(delete=delete, rewrite=rewrite, document_agents=keys, attachments=hashes),
        AuditRecord(str(uuid.uuid4()), "forget", now_ms, operator, subject))
    return ForgetReport(done, earlier)


@asynccontextmanager
async def scheduled_purge(settings: Settings, storage: Storage,
                          catalogue: Callable[[], Catalogue],
                          now_ms: Callable[[], int]) -> AsyncIterator[None]:
    """Run `purge` every `purge_interval_minutes` while the app runs (off when 0)."""
    if not settings.purge_interval_minutes:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.purge_interval_minutes * 60)
            try:
                report = await purge(storage, retention_policy(settings, catalogue()),
                                     now_ms=now_ms(), operator="schedule")
                log.info("scheduled purge removed %d statements", report.statements)
            except Exception:  # the next round tries again; the server keeps serving
                log.exception("scheduled purge failed")

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
