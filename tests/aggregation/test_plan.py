"""The plan of a whole batch (aggregation.plan), without a database: what is stored, counted,
taken back, and how many decisions are counted, for first sends, retries and voids."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from aggregation.hits import Hit
from aggregation.plan import Batch, Known, plan_batch
from aggregation.store import Tallied
from statements.errors import Conflict
from statements.plan import Held
from tests.statements.test_plan import HASH, A, B, V, kept

PAGE, OTHER = "http://e.com/page", "http://e.com/other"
HOUR = 490_000


def hit(activity: str = PAGE, hour: int = HOUR) -> Hit:
    return Hit(activity, "http://e.com/viewed", "http://e.com/type", "intranet", "k", hour)


def tallied(n: int, *, h: Hit | None = None, voids: str | None = None,
            learner: tuple[int, int] | None = None, content: str = "a") -> Tallied:
    return Tallied(f"00000000-0000-4000-9000-{n:012d}",
                   hashlib.sha256(f"{n}{content}".encode()).hexdigest(),
                   None if voids else (h or hit()), learner, voids)


T1, T2, T9 = tallied(1), tallied(2, h=hit(OTHER)), tallied(9, voids=tallied(1).statement_id)


def known_tallied(*items: Tallied, takeable: bool = False) -> Known:
    held = Held(tallied={t.statement_id: t.content_hash[:32] for t in items})
    return Known(held, {t.statement_id: t.hit for t in items if t.hit} if takeable else {})


@pytest.mark.parametrize(("batch", "known", "new", "hits", "take_back", "decisions"), [
    # DESIGN §4: counted once per new statement, kept or tallied...
    (Batch(kept=[kept(A)], tallied=[T1, T2]), Known(), [A, T1.statement_id, T2.statement_id],
     {hit(): 1, hit(OTHER): 1}, [], {"full": 1, "tally": 2}),
    # ...and nothing for an exact retry, whichever way the first was stored.
    (Batch(kept=[kept(A)], tallied=[T1]),
     Known(Held(kept={A: HASH[A]}, tallied={T1.statement_id: T1.content_hash[:32]})),
     [], {}, [], {}),
    (Batch(tallied=[Tallied(A, HASH[A], hit(), None)]), Known(Held(kept={A: HASH[A]})),
     [], {}, [], {}),
    (Batch(kept=[kept(B)]), Known(Held(tallied={B: HASH[B][:32]})), [], {}, [], {}),
    # A dropped statement is stored nowhere: counted each time it is sent.
    (Batch(dropped=2), Known(), [], {}, [], {"drop": 2}),
    # Data §2.3.2, DESIGN §3: a tallied voiding statement takes its target's hit back...
    (Batch(tallied=[T9]), known_tallied(T1, takeable=True), [T9.statement_id], {hit(): -1},
     [T1.statement_id], {"tally": 1}),
    # ...once: a target voided already (not takeable), or retried voids, take nothing.
    (Batch(tallied=[T9]), known_tallied(T1), [T9.statement_id], {}, [], {"tally": 1}),
    (Batch(tallied=[T9, tallied(8, voids=T1.statement_id)]), known_tallied(T1, takeable=True),
     [T9.statement_id, tallied(8).statement_id], {hit(): -1}, [T1.statement_id],
     {"tally": 2}),
    (Batch(tallied=[T9]), Known(Held(tallied={T9.statement_id: T9.content_hash}),
                                {T1.statement_id: hit()}), [], {}, [], {}),
    # ...also when the target comes in the same batch: counted and taken back at once.
    (Batch(tallied=[T1, T9]), Known(), [T1.statement_id, T9.statement_id], {},
     [T1.statement_id], {"tally": 2}),
    # A target held nowhere counts nothing back.
    (Batch(tallied=[T9]), Known(), [T9.statement_id], {}, [], {"tally": 1}),
], ids=["first-send", "retry", "tallied-retry-of-kept", "kept-retry-of-tallied", "dropped",
        "void-tallied", "void-voided", "two-voids-one-target", "retried-void",
        "void-same-batch", "void-unknown"])
def test_plan_batch(batch: Batch, known: Known, new: list[str], hits: dict[Hit, int],
                    take_back: list[str], decisions: dict[str, int]) -> None:
    plan = plan_batch(batch, known)
    assert plan.new_ids == new
    assert plan.hits == Counter(hits)
    assert plan.take_back == take_back
    assert plan.decisions == decisions


def test_plan_batch_sums_hits_of_one_bucket_and_keeps_a_sketch_cell_once() -> None:
    # SQLite writes one journal row per bucket: the plan sums them; a learner seen twice
    # on the same activity and day is one cell, at its highest rank.
    batch = Batch(tallied=[tallied(n, learner=(7, n)) for n in range(1, 4)]
                  + [tallied(4, h=hit(hour=HOUR + 1), learner=(7, 9))])
    plan = plan_batch(batch, Known())
    assert plan.hits == Counter({hit(): 3, hit(hour=HOUR + 1): 1})
    assert [(register, rank) for _, register, rank in plan.learners] == [(7, 9)]


@pytest.mark.parametrize(("batch", "known", "path"), [
    (Batch(tallied=[T2, T1], order=[T2.statement_id, T1.statement_id]),
     Known(Held(tallied={T1.statement_id: "0" * 32})), "$[1].id"),
    (Batch(tallied=[Tallied(A, "f" * 64, hit(), None)]), Known(Held(kept={A: HASH[A]})),
     "$[0].id"),
    (Batch(kept=[kept(B)], tallied=[T1], order=[T1.statement_id, B]),
     Known(Held(tallied={B: "0" * 32})), "$[1].id"),
], ids=["tallied-vs-tallied", "tallied-vs-kept", "kept-vs-tallied"])
def test_plan_batch_same_id_other_content_is_a_conflict(batch: Batch, known: Known,
                                                        path: str) -> None:
    # Communication §2.1.2.s2.b5: 409, whether either was kept or tallied; the JSON path
    # is the statement's place in the request.
    with pytest.raises(Conflict) as caught:
        plan_batch(batch, known)
    assert caught.value.problems[0].path == path


def test_plan_batch_writes_attachments_only_with_a_new_kept_statement() -> None:
    from statements.attachments import RawAttachment

    attachment = RawAttachment("ab" * 32, "text/plain", b"x")
    batch = Batch(kept=[kept(V)], attachments=[attachment])
    assert plan_batch(batch, Known()).attachments == [attachment]
    assert plan_batch(batch, Known(Held(kept={V: HASH[V]}))).attachments == ()


def test_plan_batch_names_dollar_id_when_the_request_held_one_statement() -> None:
    # A PUT, or a POST of one object rather than an array: the statement is at `$`.
    batch = Batch(tallied=[Tallied(A, "f" * 64, hit(), None)], single=True)
    with pytest.raises(Conflict) as caught:
        plan_batch(batch, Known(Held(kept={A: HASH[A]})))
    assert caught.value.problems[0].path == "$.id"
