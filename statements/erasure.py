"""Erasing a person and purging old statements: what to delete, what to rewrite, the store.

The rules (docs/retention.md):

- a kept statement whose actor is the person (an Agent with one of their identifiers, or an
  anonymous Group of which they are the only member) is deleted, and so is one whose object
  is a SubStatement with them as its actor: a SubStatement's actor is required, and the
  statement describes what the person did;
- where they appear otherwise (a member of a Group actor or object, of context.team, as
  context.instructor, an xAPI 2.0 context agent or group member, or as the object Agent),
  their identifier is removed and the statement, with its id, is rewritten: other people's
  records are not deleted. An object Agent, which a statement cannot go without, becomes
  the placeholder ERASED_AGENT;
- the authority, which the LRS sets from the posting credential, is left alone unless it
  is the person (a credential bound to them, `lrs credentials create --agent`, or a
  member of an OAuth authority Group): then it becomes ERASED_AGENT, as that credential's
  authority does when the person is erased (lrs.erasure).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from statements.enrich import StoredStatement
from statements.indexing import agent_key

# Stands for an erased object Agent: the same for everyone, so it links nobody.
ERASED_AGENT: dict[str, Any] = {
    "objectType": "Agent",
    "account": {"homePage": "https://tally-lrs.org/erased", "name": "erased"},
}

DELETE: Literal["delete"] = "delete"
Plan = Literal["delete"] | dict[str, Any] | None


def erasure_keys(key: str) -> frozenset[str]:
    """The agent keys that identify the person named by `key` (statements.indexing).

    An mbox also matches its mbox_sha1sum (Data §2.4.2.3: the SHA1 of the mailto IRI),
    the same person written another way.
    """
    keys = {key}
    if key.startswith("mbox:"):
        mbox = key.removeprefix("mbox:")
        keys.add(f"mbox_sha1sum:{hashlib.sha1(mbox.encode(), usedforsecurity=False).hexdigest()}")
    return frozenset(keys)


def canonical_key(key: str) -> str:
    """The one form of an agent key that the audit log records: an mbox and its
    mbox_sha1sum are the same person (Data §2.4.2.3), recorded under the SHA1 form so
    that a statement carrying either form can be matched against the record."""
    return next((k for k in erasure_keys(key) if k.startswith("mbox_sha1sum:")), key)


def identifiers(keys: Collection[str]) -> frozenset[str]:
    """The strings that identify the person in any text: for each agent key, the e-mail
    address (with and without `mailto:`), the SHA1 sum, the OpenID or the account name
    (compared case-insensitively by those who look for them)."""
    out: set[str] = set()
    for key in keys:
        kind, _, value = key.partition(":")
        if kind == "mbox":
            out.update((value, value.removeprefix("mailto:")))
        elif kind == "account":
            out.add(value.rpartition("|")[2])
        else:
            out.add(value)
    return frozenset(v for v in out if v)


def agent_keys_anywhere(value: Any) -> set[str]:
    """The agent key of every object in `value` (a statement as received, valid or not)
    that has an inverse functional identifier, wherever it is: a superset of the people
    plan_erasure looks for. Walked without recursion: the JSON may be deeply nested."""
    keys: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.keys() & _IDENTIFIERS:
                with suppress(AttributeError, KeyError, TypeError):  # malformed: not an agent
                    key = agent_key(item)
                    if key is not None:
                        keys.add(key)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return keys


_IDENTIFIERS = frozenset(("mbox", "mbox_sha1sum", "openid", "account"))


def plan_erasure(statement: dict[str, Any], keys: Collection[str]) -> Plan:
    """DELETE, the rewritten statement (a copy), or None when the person is not in it."""
    if _without(statement["actor"], keys) is None:
        return DELETE
    obj = statement["object"]
    if obj.get("objectType") == "SubStatement" and _without(obj["actor"], keys) is None:
        return DELETE
    out = copy.deepcopy(statement)
    _rewrite_statement(out, keys)
    return None if out == statement else out


def _rewrite_statement(statement: dict[str, Any], keys: Collection[str]) -> None:
    if "authority" in statement:  # only a top-level statement has one (Data §2.4.9)
        statement["authority"] = (_without(statement["authority"], keys)
                                  or copy.deepcopy(ERASED_AGENT))
    actor = _without(statement["actor"], keys)
    assert actor is not None  # plan_erasure deletes such statements
    statement["actor"] = actor
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        statement["object"] = _without(obj, keys) or copy.deepcopy(ERASED_AGENT)
    elif kind == "SubStatement":
        _rewrite_statement(obj, keys)
    if "context" in statement:
        _rewrite_context(statement["context"], keys)


def _rewrite_context(context: dict[str, Any], keys: Collection[str]) -> None:
    for name in ("instructor", "team"):
        if name in context:
            kept = _without(context[name], keys)
            if kept is None:
                del context[name]
            else:
                context[name] = kept
    # xAPI 2.0 (Data §2.4.6): contextAgents and contextGroups.
    if "contextAgents" in context:
        entries = [e for e in context["contextAgents"] if agent_key(e["agent"]) not in keys]
        _set_or_drop(context, "contextAgents", entries)
    if "contextGroups" in context:
        groups = []
        for entry in context["contextGroups"]:
            kept = _without(entry["group"], keys)
            if kept is not None:
                groups.append({**entry, "group": kept})
        _set_or_drop(context, "contextGroups", groups)


def _set_or_drop(context: dict[str, Any], name: str, entries: list[Any]) -> None:
    if entries:
        context[name] = entries
    else:
        del context[name]


def _without(actor: dict[str, Any], keys: Collection[str]) -> dict[str, Any] | None:
    """`actor` without the person: None when nothing is left of it (it is them, or an
    anonymous Group of theirs alone), else the Agent or Group minus them as a member."""
    own = agent_key(actor)
    if own is not None and own in keys:
        return None
    members = actor.get("member")
    if not members:
        return actor
    kept = [m for m in members if agent_key(m) not in keys]
    if len(kept) == len(members):
        return actor
    if not kept and own is None:
        return None  # Data §2.4.2.2: an anonymous Group must list its members
    out = dict(actor)
    if kept:
        out["member"] = kept
    else:
        del out["member"]
    return out


def attachment_hashes(statement: dict[str, Any]) -> set[str]:
    """The SHA-2s of a statement's attachments, lower case."""
    return {str(a["sha2"]).lower() for a in statement.get("attachments", ())}


@dataclass(frozen=True)
class KeptStatement:
    """A kept statement as the store holds it."""

    id: str
    stored_ms: int
    statement: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One all-or-nothing unit of erasure: statements to delete and to rewrite, the State
    and Agent Profile documents of some agents, and attachments that may have lost their
    last statement (deleted only if no statement left refers to them)."""

    delete: Sequence[KeptStatement] = ()
    rewrite: Sequence[tuple[KeptStatement, StoredStatement]] = ()  # (as stored, rewritten)
    document_agents: Collection[str] = ()
    attachments: Collection[str] = ()


AuditAction = Literal[
    "purge", "forget",  # written with the change they describe (ErasureStore.apply)
    "credential_create", "credential_rotate", "credential_revoke", "credential_checks",
    "catalogue_add", "catalogue_remove", "catalogue_load",
    "compliance_report", "evidence_export",
    "statements_import",  # `lrs import`: statements kept with their own stored and authority
    "forwarding_change",  # a forwarding destination or rule added or removed, a replay
    "quarantine_replay", "quarantine_discard",
    "framework_load", "framework_delete", "framework_assign",  # lrs.objectives
]


@dataclass(frozen=True)
class AuditRecord:
    """One admin or compliance action: a purge, an erasure, a credential or catalogue
    change, a report or an evidence export. `operator` is who did it (a credential's name,
    `person:<subject>`, or what the CLI was told); `subject` is a keyed hash of a person's
    agent key (never the key); `counts` are added to the record of the same `run_id` (a
    purge spans batches); `detail` says what was acted on (a credential name, a catalogue
    entry, a report's filters), never a learner's identifier."""

    run_id: str
    action: AuditAction
    at_ms: int
    operator: str
    subject: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    detail: dict[str, str] = field(default_factory=dict)


class ErasureStore(Protocol):
    """Deletes and rewrites kept statements, and keeps the audit log."""

    async def involving(self, keys: Collection[str]) -> list[KeptStatement]:
        """Every kept statement, voided or not, in which one of these agent keys appears
        anywhere (StatementIndex.related_agents)."""
        ...

    async def stored_before(self, before_ms: int, after: tuple[int, str] | None,
                            limit: int) -> list[KeptStatement]:
        """Up to `limit` kept statements stored before `before_ms`, in (stored, id) order,
        after the cursor `after`."""
        ...

    async def apply(self, change: Change, audit: AuditRecord) -> dict[str, int]:
        """Carry out `change` and add its counts to the audit log, in one transaction.

        Returns what was done: statements_deleted, statements_rewritten,
        documents_deleted, attachments_deleted (also added to the audit record's counts).
        """
        ...

    async def record(self, audit: AuditRecord) -> None:
        """Add one audit record of an action that changed no kept statement (a credential
        or catalogue change, a report, an export); its `run_id` is new."""
        ...

    async def audit_log(self, subject: str | None = None) -> list[AuditRecord]:
        """The audit records, oldest first; only those of `subject` when given."""
        ...

    async def secret(self) -> bytes:
        """The key of the audit log's subject hashes, created on first use."""
        ...

    async def documents_of(self, keys: Collection[str]) -> int:
        """How many State and Agent Profile documents these agent keys have."""
        ...

    async def rewrite_audit(self, records: Sequence[AuditRecord]) -> None:
        """Replace the operator and detail of these records (by run_id): an erasure
        scrubbing the person's identifiers out of earlier entries."""
        ...

    async def compact(self) -> None:
        """Leave no copy of what was deleted in the store's own files (SQLite: rewrite the
        file and empty its write-ahead log; MongoDB: nothing to do from here)."""
        ...
