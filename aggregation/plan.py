"""The plan of a whole batch (pure): kept statements, tallied hits, fingerprints, decisions.

Every rule of the write path lives here once; an engine's commit reads what it holds about
the batch (`Known`) in its transaction, calls `plan_batch` and writes the `Plan`, deciding
nothing itself. A retry is a plan that writes and counts nothing.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aggregation.hits import Hit
from aggregation.store import Tallied
from statements.attachments import RawAttachment
from statements.enrich import StoredStatement
from statements.plan import Held, StatementPlan, is_retry, plan_statements


@dataclass(frozen=True)
class Batch:
    """One request's statements after the retention decision, ready to commit.

    `order` is the ids in the order sent (for the JSON path of a 409; by default kept then
    tallied); `dropped` counts the statements a rule decided to drop (stored nowhere).
    """

    kept: Sequence[StoredStatement] = ()
    attachments: Sequence[RawAttachment] = ()
    tallied: Sequence[Tallied] = ()
    dropped: int = 0
    day: int = 0  # the day (since the epoch, UTC) the decisions are counted in
    fingerprint_expires_ms: int = 0
    order: Sequence[str] = ()
    single: bool = False  # the request held one statement, not an array
    # Forwarding (docs/forwarding.md): statement id → the destinations its rules name; an
    # outbox item is planned for each when the statement is stored for the first time.
    forward: Mapping[str, Sequence[str]] = field(default_factory=dict)
    salt: bytes = b""  # keys a tallied hit's outbox item, so it names no statement id
    # Statement id → the JSON findings of a flag-mode door check (lrs.door), written beside
    # the kept statement in the same commit.
    marks: Mapping[str, bytes] = field(default_factory=dict)

    @functools.cached_property
    def ids(self) -> list[str]:
        """Every id of the batch, kept then tallied."""
        return [s.id for s in self.kept] + [t.statement_id for t in self.tallied]

    @functools.cached_property
    def targets(self) -> list[str]:
        """The ids the batch's voiding statements target, kept or tallied."""
        return sorted({s.voids for s in self.kept if s.voids}
                      | {t.voids for t in self.tallied if t.voids})


@dataclass(frozen=True)
class Known:
    """What the store holds about a batch: its kept side (`statements.plan.Held`) and, for
    each voiding target held as a tallied statement not voided yet, the hit it counted."""

    held: Held = field(default_factory=Held)
    takeable: Mapping[str, Hit] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxItem:
    """One thing to send to one forwarding destination, written with the batch it comes from.

    A kept statement is named by its id (read from the store when sent); a tallied one
    leaves only as its anonymous `hit`, keyed by a digest that names no statement.
    """

    key: str  # unique per (destination, statement): the receiver's dedupe id for a hit
    destination: str
    statement_id: str | None = None
    hit: Hit | None = None


@dataclass(frozen=True)
class Plan:
    """What one commit writes."""

    statements: StatementPlan
    attachments: Sequence[RawAttachment]  # written only with a new kept statement
    fingerprints: list[Tallied]  # new tallied statements, one fingerprint each
    hits: Counter[Hit]  # per bucket: +1 per new hit, -1 per hit taken back, summed
    take_back: list[str]  # tallied statements now voided (their fingerprints marked so)
    learners: list[tuple[Hit, int, int]]  # (a hit of it, register, rank) per sketch cell
    decisions: dict[str, int]  # full / tally / drop / clipped → how many to count on `day`
    day: int
    fingerprint_expires_ms: int
    outbox: list[OutboxItem] = field(default_factory=list)  # written in the same commit
    marks: Mapping[str, bytes] = field(default_factory=dict)  # of new kept statements only

    @property
    def new_ids(self) -> list[str]:
        """The ids this commit stores for the first time, kept or tallied."""
        return [s.id for s in self.statements.insert] + [t.statement_id
                                                         for t in self.fingerprints]

    @property
    def take_back_held(self) -> list[str]:
        """Of `take_back`, the fingerprints stored before this commit (to be updated)."""
        new = {t.statement_id for t in self.fingerprints}
        return [target for target in self.take_back if target not in new]

    @property
    def empty(self) -> bool:
        """Nothing to write at all: every statement was an exact retry."""
        return not (self.new_ids or self.decisions)


def plan_batch(batch: Batch, known: Known) -> Plan:
    """The plan of `batch` against `known`; raises `statements.errors.Conflict` (409) when an
    id is held with other content, and then nothing of the batch may be written."""
    order = batch.order or batch.ids
    kept = plan_statements(batch.kept, known.held, order, single=batch.single)
    # Communication §2.1.2.s2.b5 and DESIGN §4: a tallied statement held already, kept or
    # tallied, with the same content is a retry; with other content a 409.
    fresh = list(batch.tallied)
    if known.held.kept or known.held.tallied:
        fresh = [t for t in fresh
                 if not is_retry(t.statement_id, t.content_hash, known.held, order,
                                 single=batch.single)]
    hits: Counter[Hit] = Counter(t.hit for t in fresh if t.hit is not None)
    # Data §2.3.2 and DESIGN §3: a tallied voiding statement takes the hit of the tallied
    # statement it voids back out of the counters, once, whether that one was stored
    # before or comes in the same batch; a target held nowhere (or not tallied) counts
    # nothing back.
    take_back: list[str] = []
    if voids := {t.voids for t in fresh if t.voids}:
        countable = {**known.takeable, **{t.statement_id: t.hit for t in fresh
                                          if t.hit is not None and t.statement_id in voids}}
        take_back = sorted(voids & countable.keys())
        hits.subtract(Counter(countable[target] for target in take_back))
    cells: dict[tuple[str, int, int], tuple[Hit, int]] = {}
    for t in fresh:
        if t.hit is not None and t.learner is not None:
            cell = (t.hit.activity, t.hit.day, t.learner[0])
            if cell not in cells or cells[cell][1] < t.learner[1]:
                cells[cell] = (t.hit, t.learner[1])
    # DESIGN §4: each statement's decision is counted once, when it is first stored; a
    # dropped statement is stored nowhere, so each time it is sent.
    # Differential privacy: hits past their learner's bound are counted as clipped, a figure
    # with no identity (never with the option off, so no "clipped" key appears then).
    decisions = {name: n for name, n in (("full", len(kept.insert)), ("tally", len(fresh)),
                                         ("drop", batch.dropped),
                                         ("clipped", sum(t.clipped for t in fresh))) if n}
    return Plan(
        statements=kept, attachments=batch.attachments if kept.insert else (),
        fingerprints=fresh, hits=_nonzero(hits) if take_back else hits, take_back=take_back,
        learners=[(hit, register, rank) for (_, _, register), (hit, rank) in cells.items()],
        decisions=decisions, day=batch.day,
        fingerprint_expires_ms=batch.fingerprint_expires_ms,
        outbox=_outbox(batch, kept.insert, fresh) if batch.forward else [],
        marks={s.id: batch.marks[s.id] for s in kept.insert if s.id in batch.marks}
        if batch.marks else {})


def _outbox(batch: Batch, inserted: Sequence[StoredStatement], fresh: Sequence[Tallied]
            ) -> list[OutboxItem]:
    """One item per (destination, statement first stored now): a retry forwards nothing
    again. DESIGN §6: a tallied statement leaves only as its hit, never with an identity."""
    items = [OutboxItem(f"{d}/{s.id}", d, statement_id=s.id)
             for s in inserted for d in batch.forward.get(s.id, ())]
    items += [OutboxItem(_hit_key(batch.salt, d, t.statement_id), d, hit=t.hit)
              for t in fresh if t.hit is not None for d in batch.forward.get(t.statement_id, ())]
    return items


def _hit_key(salt: bytes, destination: str, statement_id: str) -> str:
    digest = hashlib.blake2b(f"{destination}/{statement_id}".encode(), key=salt[:64],
                             digest_size=16).hexdigest()
    return f"{destination}/hit-{digest}"


def _nonzero(hits: Counter[Hit]) -> Counter[Hit]:
    return Counter({hit: n for hit, n in hits.items() if n})
