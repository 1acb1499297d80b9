"""The ingest pipeline (DESIGN §2): validate once, enrich, decide, keep or tally; all or nothing."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import pluggy

from aggregation.hits import DAY_HOURS, HOUR_MS, Hit, reduce_statement
from aggregation.learners import learner_digest
from aggregation.periods import period_start
from aggregation.plan import Batch, Plan
from aggregation.privacy import contribution_digests
from aggregation.sketch import register_of
from aggregation.store import Tallied, Where
from lrs.config import Settings
from lrs.consistency import StoredClock
from lrs.credentials import Credential, Scope
from lrs.door import Door, build_door
from lrs.forwarding.rules import RuleCache, destinations_for
from lrs.limits import check_batch, check_statement_parts
from lrs.storage import Storage
from plugins.catalogue import Catalogue
from plugins.catalogue_store import CachedCatalogue
from plugins.hookspecs import Decision, RetentionContext
from plugins.manager import decide, make_plugin_manager
from statements.activities import activities_in, merge_definition
from statements.attachments import (
    RawAttachment,
    declared,
    match_attachments,
    media_type,
    parse_multipart,
)
from statements.enrich import StoredStatement, enrich
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.parsing import ParsedStatements, parse_statements
from statements.signatures import check_signatures
from statements.versions import XapiVersion

_DAY_MS = DAY_HOURS * HOUR_MS
_PURGE_EVERY_SECONDS = 600
_MERGED_MEMORY = 50_000
# What a tallied statement may add to an Activity's canonical definition: how the resource
# is called and what kind it is, never extensions or other free-form data.
_TALLY_DEFINITION_KEYS = ("name", "description", "type")


@dataclass
class Ingest:
    """Everything a statement request needs, built once per app (lrs.app)."""

    storage: Storage
    settings: Settings
    clock: StoredClock
    plugins: pluggy.PluginManager
    catalogue: Callable[[], Catalogue]
    # Told, after each accepted request, the credential's name and each statement's decision.
    count_decisions: Callable[[str, Sequence[Decision]], None] | None = None
    forwarding: RuleCache | None = None  # the forwarding rules (docs/forwarding.md)
    # The door checks (cmi5, profiles: lrs.door); they cost nothing for a credential with
    # every check off.
    door: Door = field(default_factory=Door)
    _day_keys: dict[int, bytes | None] = field(default_factory=dict)
    _merged: dict[tuple[str, bool], bytes] = field(default_factory=dict)
    _last_purge: float = 0.0

    async def __call__(self, body: bytes, *, content_type: str, version: XapiVersion,
                       credential: Credential, statement_id: str | None = None,
                       keep_lrs_set: bool = False, keep: bool = False) -> list[str]:
        """Accept the statements of a PUT (`statement_id` given) or POST body and return
        their ids in the order sent. Each is kept in full or tallied by the retention chain;
        the answer is the same either way. `keep_lrs_set`: keep each statement's own `stored`
        and `authority` (`lrs import`, never the API). `keep`: keep every statement in full,
        whatever the chain would say (the LRS's own records: a manager's assessment,
        lrs.objectives.assessments; never the API)."""
        parsed, parts = _parse(body, content_type, version, self.settings)
        sent = parsed.statements
        ids = _ids(parsed, statement_id)
        attachments = match_attachments(sent, parts)
        check_signatures(sent, {a.sha2: a for a in attachments})
        stored = self.clock.begin()
        try:
            prepared = [enrich(s, statement_id=i, stored=stored, authority=credential.authority,
                               version=version, keep_lrs_set=keep_lrs_set)
                        for s, i in zip(sent, ids, strict=True)]
            # The door (lrs.door): a reject-mode finding refuses the request here (400),
            # before anything is written; flag-mode findings become marks.
            verdict = await self.door.inspect(
                [p.statement for p in prepared], ids, credential=credential,
                store=self.storage.statements, single=parsed.single)
            targets = {p.voids for p in prepared if p.voids}
            known = await self.storage.tally.where(targets) if targets else {}
            decisions = ([Decision.FULL] * len(prepared) if keep
                         else self._decide(prepared, credential, known))
            kept = [p for p, d in zip(prepared, decisions, strict=True) if d is Decision.FULL]
            tallied = await self._tally(prepared, decisions, credential)
            forward = await self._forward(prepared, decisions, credential)
            plan = await self.storage.commit(self._batch(
                kept, _used_by(kept, attachments), tallied, ids,
                dropped=decisions.count(Decision.DROP), single=parsed.single,
                forward=forward, marks=verdict.marks))
        finally:
            self.clock.end(stored)
        # DESIGN §4: counted once, when first stored; a retry counts (and notifies) nothing.
        if self.count_decisions is not None:
            self.count_decisions(credential.name, [
                Decision(name) for name, n in plan.decisions.items() if name != "clipped"
                for _ in range(n)])
        self.door.stored(verdict, plan.new_ids)
        await self._define(credential, sent, decisions)
        self._notify(credential, plan)
        await self._purge_now_and_then()
        return ids

    def _batch(self, kept: list[StoredStatement], attachments: list[RawAttachment],
               tallied: list[Tallied], order: Sequence[str], *, dropped: int,
               single: bool = False, forward: dict[str, tuple[str, ...]] | None = None,
               marks: Mapping[str, bytes] | None = None) -> Batch:
        now_ms = self.clock.now_ms()
        return Batch(kept, attachments, tallied, dropped=dropped, day=now_ms // _DAY_MS,
                     fingerprint_expires_ms=now_ms + self.settings.fingerprint_days * _DAY_MS,
                     order=order, single=single, forward=forward or {},
                     salt=os.urandom(16) if forward else b"", marks=marks or {})

    async def _forward(self, prepared: Sequence[StoredStatement], decisions: Sequence[Decision],
                       credential: Credential) -> dict[str, tuple[str, ...]]:
        """Each statement's forwarding destinations, by the rules in effect (the plan writes
        an outbox item for each, in the batch's commit, if the statement is new)."""
        if self.forwarding is None:
            return {}
        rules = await self.forwarding.current()
        if not rules:
            return {}
        out = {}
        for p, decision in zip(prepared, decisions, strict=True):
            if decision is Decision.DROP or (decision is Decision.TALLY and p.voids):
                continue
            kind: Literal["kept", "tallied"] = "kept" if decision is Decision.FULL \
                else "tallied"
            if found := destinations_for(rules, p.statement, credential.name, kind):
                out[p.id] = found
        return out

    async def beacon(self, hit: Hit, hit_id: str | None) -> None:
        """Record one hit sent without xAPI (the beacon), down the same tally path.

        A beacon names no person, so it counts a hit but no learner. With an `id`, a retry is
        not counted twice.
        """
        content_hash = hashlib.sha256(orjson.dumps(
            [hit.activity, hit.verb, hit.activity_type, hit.platform])).hexdigest()
        statement_id = hit_id or str(uuid.uuid4())
        # With differential privacy on, a hit no learner can be bounded for is clipped.
        tallied = (Tallied(statement_id, content_hash, None, None, clipped=True)
                   if self.settings.dp_enabled else Tallied(statement_id, content_hash, hit, None))
        plan = await self.storage.commit(self._batch([], [], [tallied], [statement_id],
                                                     dropped=0))
        if not plan.fingerprints or plan.fingerprints[0].hit is None:
            return  # a retried beacon (counted already), or a clipped one
        self.plugins.hook.lrs_hits_tallied(hits=[hit], credential_name=hit.credential)

    def _decide(self, prepared: Sequence[StoredStatement], credential: Credential,
                known: dict[str, Where]) -> list[Decision]:
        context = RetentionContext(
            credential_key=credential.key, credential_name=credential.name,
            credential_default=Decision(credential.retention.value),
            server_default=Decision(self.settings.default_retention),
            catalogue=self.catalogue(),
            voided_targets={i: Decision(w) for i, w in known.items()})
        decisions: dict[int, Decision] = {}
        # Voiding statements last, so one whose target is in the same batch can follow it.
        for number, p in sorted(enumerate(prepared), key=lambda item: item[1].voids is not None):
            if p.voids:
                context.voided_targets.update(
                    {prepared[n].id: d for n, d in decisions.items()})
            decisions[number] = decide(self.plugins, p.statement, context)
        return [decisions[n] for n in range(len(prepared))]

    async def _tally(self, prepared: Sequence[StoredStatement], decisions: Sequence[Decision],
                     credential: Credential) -> list[Tallied]:
        out = []
        today = self._open_day()
        for p, decision in zip(prepared, decisions, strict=True):
            if decision is not Decision.TALLY:
                continue
            if p.voids:  # counts nothing itself; the plan takes its target's hit back
                out.append(Tallied(p.id, p.content_hash, None, None, p.voids))
                continue
            hit = reduce_statement(p.statement, credential.key)
            out.append(Tallied(p.id, p.content_hash, hit,
                               await self._learner(p.statement["actor"], hit, today)))
        if self.settings.dp_enabled:
            out = await self._bound(prepared, out, today)
        return out

    async def _bound(self, prepared: Sequence[StoredStatement], tallied: list[Tallied],
                     today: int) -> list[Tallied]:
        """Differential privacy's contribution bounds (aggregation.privacy): a hit past its
        learner's bounds for the key period, or one no learner can be bounded for (a closed
        period, no identifier), is clipped: fingerprinted, counted as clipped, no hit."""
        period = self.settings.tally_key_period
        actors = {p.id: p.statement["actor"] for p in prepared}
        # A statement held already is a retry (or a 409): it must not use up its learner's
        # bounds a second time.
        held = await self.storage.tally.where([t.statement_id for t in tallied if t.hit])
        by_period: dict[int, list[tuple[int, bytes, bytes]]] = {}
        clipped: set[int] = set()
        for index, t in enumerate(tallied):
            if t.hit is None or t.statement_id in held:
                continue
            start = period_start(t.hit.day, period)
            key = _learner_key(actors[t.statement_id])
            period_key = await self._day_key(start, period_start(today, period))
            if not key or period_key is None:
                clipped.add(index)
                continue
            by_period.setdefault(start, []).append(
                (index, *contribution_digests(period_key, key, t.hit.activity)))
        for start, items in by_period.items():
            counted = await self.storage.tally.bound_contributions(
                start, [(person, pair) for _, person, pair in items],
                per_bucket=self.settings.dp_hits_per_bucket,
                buckets=self.settings.dp_buckets_per_learner)
            clipped.update(index for (index, _, _), ok in zip(items, counted, strict=True)
                           if not ok)
        return [Tallied(t.statement_id, t.content_hash, None, None, clipped=True)
                if index in clipped else t for index, t in enumerate(tallied)]

    async def _learner(self, actor: dict[str, Any], hit: Hit, today: int
                       ) -> tuple[int, int] | None:
        """The learner's place in the (activity, day) sketch: a keyed hash of the actor,
        computed here and never stored (DESIGN §4)."""
        key = _learner_key(actor)
        period = self.settings.tally_key_period
        day_key = await self._day_key(period_start(hit.day, period), period_start(today, period))
        if not key or day_key is None:
            return None  # a closed period's key is gone: the hit counts, the learner cannot
        return register_of(learner_digest(day_key, key))

    async def _day_key(self, day: int, today: int) -> bytes | None:
        # `day` and `today` are the first days of key periods (aggregation.periods): one key
        # per period, stored under its first day.
        if day < today:
            # A closed day: its key is destroyed (by purge) and no process keeps a copy.
            if self._day_keys and min(self._day_keys) < today:
                self._day_keys = {d: k for d, k in self._day_keys.items() if d >= today}
            return None
        if day not in self._day_keys:
            self._day_keys[day] = await self.storage.tally.day_key(day, today=today)
        return self._day_keys[day]

    def _open_day(self) -> int:
        """The oldest day whose key still exists: today, or yesterday during the grace."""
        grace_ms = self.settings.day_key_grace_minutes * 60_000
        return (self.clock.now_ms() - grace_ms) // _DAY_MS

    async def _define(self, credential: Credential, sent: list[dict[str, Any]],
                      decisions: Sequence[Decision]) -> None:
        # Data §2.4.4.1.s4.b3-b5: credentials allowed to define activities update the
        # canonical definitions; from tallied statements only names, descriptions and types.
        if not credential.allows(Scope.DEFINE):
            return
        found: dict[str, dict[str, Any]] = {}
        seen: dict[tuple[str, bool], bytes] = {}
        for statement, decision in zip(sent, decisions, strict=True):
            if decision is Decision.DROP:
                continue
            tallied = decision is Decision.TALLY
            # From a tallied statement, only what its object is called: the dashboard names
            # the resources people use, not the courses around them.
            for activity in (_object_activity(statement) if tallied
                             else activities_in(statement)):
                definition = activity.get("definition")
                if not definition:
                    continue
                # Platforms send the same definitions over and over: one that this process
                # merged last for this activity, byte for byte, changes nothing and is
                # skipped (a bounded memory of digests).
                memo = (activity["id"], tallied)
                digest = hashlib.blake2b(orjson.dumps(definition), digest_size=16).digest()
                if seen.get(memo) == digest or (memo not in seen
                                                and self._merged.get(memo) == digest):
                    continue
                seen[memo] = digest
                if tallied:
                    definition = {k: v for k, v in definition.items()
                                  if k in _TALLY_DEFINITION_KEYS}
                found[activity["id"]] = merge_definition(found.get(activity["id"], {}),
                                                         definition)
        found = {a: d for a, d in found.items() if d}
        if found:
            await self.storage.activities.merge(found)
        if len(self._merged) > _MERGED_MEMORY:
            self._merged.clear()
        self._merged.update(seen)

    def _notify(self, credential: Credential, plan: Plan) -> None:
        if kept := plan.statements.insert:
            self.plugins.hook.lrs_statements_stored(
                statements=[p.statement for p in kept], credential_name=credential.name)
        hits = [t.hit for t in plan.fingerprints if t.hit is not None]
        if hits:
            self.plugins.hook.lrs_hits_tallied(hits=hits, credential_name=credential.name)

    async def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._last_purge >= _PURGE_EVERY_SECONDS:
            self._last_purge = time.monotonic()
            await self.storage.tally.purge(now_ms=self.clock.now_ms(), today=period_start(
                self._open_day(), self.settings.tally_key_period))
            # Rejected statements past their credential's quarantine_days (docs/quarantine.md).
            await self.storage.quarantine.purge(self.clock.now_ms())


async def build_ingest(storage: Storage, settings: Settings, *,
                       catalogue: CachedCatalogue | None = None, clock: StoredClock | None = None,
                       plugins: pluggy.PluginManager | None = None,
                       count_decisions: Callable[[str, Sequence[Decision]], None] | None = None,
                       forwarding: RuleCache | None = None,
                       door: Door | None = None) -> Ingest:
    """The one way to assemble the ingest (the app, `lrs import` and the demo use it): the
    plugins of the `lrs` entry points unless given, the catalogue read fresh unless a
    cached one is given, and the door checks (lrs.door.build_door: cmi5, and the profiles
    loaded; uncounted) unless a door is given: an import through a credential in `reject`
    mode rejects as the API would."""
    if catalogue is None:
        catalogue = CachedCatalogue(storage.catalogue, settings.catalogue_refresh_seconds)
        await catalogue.refresh(force=True)
    if forwarding is None:
        forwarding = RuleCache(storage.forwarding, settings.forwarding_rules_refresh_seconds)
    plugins = plugins or make_plugin_manager()
    if door is None:  # the checks run on what a credential sends, whatever the way in
        door = await build_door(settings, plugins)
    return Ingest(storage, settings, clock or StoredClock(), plugins, catalogue.current,
                  count_decisions, forwarding, door)


def _parse(body: bytes, content_type: str, version: XapiVersion, settings: Settings
           ) -> tuple[ParsedStatements, list[RawAttachment]]:
    # Communication §1.5: application/json, or multipart/mixed carrying raw attachments.
    kind = media_type(content_type)
    parts: list[RawAttachment] = []
    if kind == "multipart/mixed":
        multipart = parse_multipart(body, content_type)
        body, parts = multipart.statements, multipart.attachments
        check_statement_parts(settings, body, parts)
    elif kind != "application/json":
        raise InvalidRequest(f"statements must be sent as application/json or multipart/mixed,"
                             f" not {kind or 'no Content-Type'}",
                             (Problem("header", "Content-Type"),))
    parsed = parse_statements(body, version)
    check_batch(settings, len(parsed.statements))
    return parsed, parts


def _ids(parsed: ParsedStatements, statement_id: str | None) -> list[str]:
    sent = parsed.statements
    if statement_id is not None:
        if not parsed.single:
            raise InvalidRequest("PUT takes one statement, not an array",
                                 (Problem("$", "expected a JSON object"),))
        if "id" in sent[0] and sent[0]["id"].lower() != statement_id:
            # Communication §2.1.1.s3.b3: the body's id must match the statementId parameter.
            raise InvalidRequest("the statement id differs from the statementId parameter",
                                 (Problem("$.id", "must equal ?statementId"),))
        return [statement_id]
    fresh = iter(_new_ids(sum("id" not in s for s in sent)))
    ids = [s["id"].lower() if "id" in s else next(fresh) for s in sent]
    first: dict[str, int] = {}
    for index, one in enumerate(ids):
        if one in first:
            # Communication §2.1.1.s2.b4, LRS book 4.1.6.1: one id twice in a batch → 400.
            raise InvalidRequest(f"the id {one} appears twice in the batch", (
                Problem(f"$[{index}].id", f"also used by $[{first[one]}]"),))
        first[one] = index
    return ids


def _learner_key(actor: dict[str, Any]) -> str:
    """The actor's identifier as one string (a group's: its members'), "" if it has none."""
    return agent_key(actor) or ",".join(sorted(
        k for m in actor.get("member", ()) if (k := agent_key(m))))


def _object_activity(statement: dict[str, Any]) -> list[dict[str, Any]]:
    obj = statement["object"]
    return [obj] if obj.get("objectType", "Activity") == "Activity" else []


def _new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs, from one read of the system's random source."""
    randomness = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=randomness[i:i + 16], version=4))
            for i in range(0, 16 * count, 16)]


def _used_by(kept: Sequence[StoredStatement], attachments: list[RawAttachment]
             ) -> list[RawAttachment]:
    """Only kept statements keep their attachments' bytes."""
    wanted = {a["sha2"].lower() for _, a in declared(p.statement for p in kept)}
    return [a for a in attachments if a.sha2 in wanted]

