"""The plan of a batch's kept statements (pure): what to insert, what to void, what is a retry.

An engine reads what it holds about a batch's ids (`Held`), inside the transaction that
will write the batch, hands it to `plan_statements` and writes the `StatementPlan` it gets
back; it decides nothing itself. `aggregation.plan` builds on this for the tallied side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from statements.enrich import StoredStatement
from statements.errors import Conflict, Problem


@dataclass(frozen=True)
class Held:
    """What the store holds about a batch's ids and voiding targets, read in its transaction.

    `kept` and `tallied` map an id of the batch to the content hash stored for it (a
    fingerprint may hold only a prefix of the hash). `voided_before` are ids of the batch
    that a stored voiding statement already targets; `targets` maps each voiding target the
    store keeps in full to whether that statement is itself a voiding statement.
    """

    kept: Mapping[str, str] = field(default_factory=dict)
    tallied: Mapping[str, str] = field(default_factory=dict)
    voided_before: frozenset[str] = frozenset()
    targets: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementPlan:
    """What to write of the kept statements: nothing of it depends on the engine."""

    insert: list[StoredStatement]  # new statements, in the order sent
    voided_on_arrival: frozenset[str]  # of `insert`, those stored already voided
    void: list[str]  # statements held in full that a new voiding statement voids
    awaited: list[str]  # targets of new voiding statements held nowhere yet


def is_retry(statement_id: str, content_hash: str, held: Held, order: Sequence[str], *,
             single: bool = False) -> bool:
    """Whether the store already holds this statement, kept or tallied: True for an exact
    retry (nothing to write, nothing to count), False for a new id.

    Communication §2.1.1.s2.b2, §2.1.2.s2.b5, Data §2.4.1: the same id with other content
    is a 409 Conflict, whether the first was kept or tallied; nothing of the batch is
    written. A fingerprint may keep a prefix of the hash only (ample to tell them apart).
    The 409 names the statement's place in the batch sent in `order` (`$.id` when the
    request held one statement, not an array: `single`).
    """
    if (known := held.kept.get(statement_id)) is not None:
        same = known == content_hash
    elif (short := held.tallied.get(statement_id)) is not None:
        same = content_hash.startswith(short)
    else:
        return False
    if not same:
        raise Conflict(f"statement {statement_id} already exists with different content",
                       (Problem("$.id" if single else f"$[{order.index(statement_id)}].id",
                                f"{statement_id} is already used"),))
    return True


def plan_statements(kept: Sequence[StoredStatement], held: Held,
                    order: Sequence[str] | None = None, *, single: bool = False
                    ) -> StatementPlan:
    """The plan of `kept` against what the store holds (`held`); raises Conflict.

    `order` is the ids of the request in the order sent (for the 409's JSON path); by
    default those of `kept`. `single`: the request held one statement, not an array.
    """
    if held.kept or held.tallied:
        order = order if order is not None else [s.id for s in kept]
        insert = [s for s in kept
                  if not is_retry(s.id, s.content_hash, held, order, single=single)]
    else:  # nothing of the batch is held: no retry, no conflict
        insert = list(kept)
    new_ids = {s.id for s in insert}
    targets = {s.voids for s in insert if s.voids}
    # Data §2.3.2.s2.b3: a statement is voided when a voiding statement targets it and it is
    # not itself a voiding statement; the voiding statement may come first, after, or in the
    # same batch.
    voided = frozenset(s.id for s in insert if s.voids is None
                       and (s.id in targets or s.id in held.voided_before))
    elsewhere = sorted(targets - new_ids)
    return StatementPlan(
        insert=insert, voided_on_arrival=voided,
        void=[t for t in elsewhere if t in held.targets and not held.targets[t]],
        awaited=[t for t in elsewhere if t not in held.targets and t not in held.tallied])
