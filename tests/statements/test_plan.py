"""The plan of kept statements (statements.plan), without a database: retries, 409s, voiding."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest

from statements.enrich import StoredStatement, enrich
from statements.errors import Conflict
from statements.plan import Held, plan_statements
from statements.versions import XapiVersion
from tests.factories import make_statement, voiding

A, B, C = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
V, W = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k1"}}


@functools.cache
def kept(name: str) -> StoredStatement:
    """A (plain), B, C: statements; V voids A; W voids V (the same each time asked)."""
    sent = {V: voiding(A, id=V), W: voiding(V, id=W)}.get(name) or make_statement(id=name)
    return enrich(sent, statement_id=name, stored=datetime(2026, 3, 1, tzinfo=UTC),
                  authority=AUTHORITY, version=XapiVersion.V2)


HASH = {n: kept(n).content_hash for n in (A, B, C, V, W)}


@pytest.mark.parametrize(("batch", "held", "insert", "voided", "void", "awaited"), [
    # New ids are inserted, in the order sent.
    ([A, B], Held(), [A, B], set(), [], []),
    # Communication §2.1.2.s2.b5: the same id and content again is a retry: nothing.
    ([A, B], Held(kept={A: HASH[A]}), [B], set(), [], []),
    # ...whether the first was kept or tallied (a fingerprint's hash may be a prefix).
    ([A, B], Held(tallied={A: HASH[A][:32]}), [B], set(), [], []),
    # Data §2.3.2: a voiding statement voids a target held in full...
    ([V], Held(targets={A: False}), [V], set(), [A], []),
    # ...or one in the same batch, stored already voided...
    ([A, V], Held(), [A, V], {A}, [], []),
    # ...or one that arrives later (held nowhere yet: awaited).
    ([V], Held(), [V], set(), [], [A]),
    # A target voided before it arrived is stored voided.
    ([A], Held(voided_before=frozenset({A})), [A], {A}, [], []),
    # A voiding statement is never voided itself (Data §2.3.2.s2.b3).
    ([W], Held(targets={V: True}), [W], set(), [], []),
    ([V, W], Held(), [V, W], set(), [], [A]),
    # A retried voiding statement voids nothing again.
    ([V], Held(kept={V: HASH[V]}, targets={A: False}), [], set(), [], []),
    # A kept voiding statement whose target was tallied awaits nothing here (the tally's
    # plan takes hits back).
    ([V], Held(tallied={A: HASH[A]}), [V], set(), [], []),
], ids=["new", "retry-kept", "retry-tallied", "void-held", "void-same-batch", "void-awaited",
        "voided-before", "voiding-not-voidable", "voiding-chain", "retried-void",
        "void-of-tallied"])
def test_plan_statements(batch: list[str], held: Held, insert: list[str], voided: set[str],
                         void: list[str], awaited: list[str]) -> None:
    plan = plan_statements([kept(n) for n in batch], held)
    assert [s.id for s in plan.insert] == insert
    assert plan.voided_on_arrival == voided
    assert plan.void == void
    assert plan.awaited == awaited


@pytest.mark.parametrize(("held", "path"), [
    (Held(kept={B: "0" * 64}), "$[1].id"),
    (Held(tallied={B: "0" * 32}), "$[1].id"),
], ids=["kept", "tallied"])
def test_plan_statements_same_id_other_content_is_a_conflict(held: Held, path: str) -> None:
    # Communication §2.1.2.s2.b5, Data §2.4.1: 409, and nothing of the batch is written.
    with pytest.raises(Conflict) as caught:
        plan_statements([kept(A), kept(B)], held)
    assert caught.value.problems[0].path == path
    assert B in caught.value.message
