"""Forwarding's pure parts: which rules match, the plan's outbox items, the hit that leaves,
the webhook signature and the backoff."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from aggregation.hits import Hit
from aggregation.plan import Batch, Known, plan_batch
from aggregation.store import Tallied
from lrs.config import Settings
from lrs.forwarding import Rule
from lrs.forwarding.rules import destinations_for, hit_record
from lrs.forwarding.send import sign
from lrs.forwarding.worker import backoff_ms
from statements.plan import Held
from tests.factories import make_statement
from tests.lrs.test_batch_contract import kept

VERB = "http://adlnet.gov/expapi/verbs/completed"
COURSE = "http://example.com/course/1"


@pytest.mark.parametrize(("rule", "credential", "decision", "expected"), [
    (Rule("r", "d"), "lms", "kept", ("d",)),
    (Rule("r", "d"), "lms", "tallied", ()),  # a rule is for kept statements unless it says
    (Rule("r", "d", "tallied"), "lms", "tallied", ("d",)),
    (Rule("r", "d", verbs=(VERB,)), "lms", "kept", ("d",)),
    (Rule("r", "d", verbs=("http://example.com/other",)), "lms", "kept", ()),
    (Rule("r", "d", activity=COURSE), "lms", "kept", ("d",)),
    (Rule("r", "d", activity="http://example.com/course/*"), "lms", "kept", ("d",)),
    (Rule("r", "d", activity="http://example.com/other/*"), "lms", "kept", ()),
    (Rule("r", "d", activity="http://example.com/course/"), "lms", "kept", ()),  # exact
    (Rule("r", "d", credentials=("lms",)), "lms", "kept", ("d",)),
    (Rule("r", "d", credentials=("intranet",)), "lms", "kept", ()),
])
def test_rule_matches_when_every_filter_given_holds(rule: Rule, credential: str, decision: str,
                                                    expected: tuple[str, ...]) -> None:
    statement = make_statement(verb={"id": VERB}, object={"objectType": "Activity",
                                                          "id": COURSE})
    assert destinations_for([rule], statement, credential, decision) == expected  # type: ignore[arg-type]


def test_an_activity_rule_never_matches_an_agent_object() -> None:
    statement = make_statement(object={"objectType": "Agent", "mbox": "mailto:a@example.com"})
    assert destinations_for([Rule("r", "d", activity="mailto:*")], statement, "lms",
                            "kept") == ()


def test_each_destination_once_however_many_rules_match() -> None:
    statement = make_statement()
    rules = [Rule("r1", "d"), Rule("r2", "d"), Rule("r3", "e")]
    assert destinations_for(rules, statement, "lms", "kept") == ("d", "e")


def test_plan_outbox_only_for_statements_stored_for_the_first_time() -> None:
    new, held = kept(make_statement()), kept(make_statement())
    batch = Batch(kept=[new, held], forward={new.id: ("d", "e"), held.id: ("d",)})
    plan = plan_batch(batch, Known(Held(kept={held.id: held.content_hash})))
    assert sorted((i.destination, i.statement_id) for i in plan.outbox) == [
        ("d", new.id), ("e", new.id)]


def test_a_tallied_hit_leaves_without_credential_type_or_statement_id() -> None:
    hit = Hit("http://example.com/page", VERB, "http://example.com/type", "intranet", "key",
              24 * 20_000 + 5)
    assert hit_record(hit) == {"resource": "http://example.com/page", "verb": VERB,
                               "platform": "intranet", "hour": "2024-10-04T05:00:00Z"}
    statement_id = "0b5f1e1e-0000-4000-8000-000000000000"
    plan = plan_batch(Batch(tallied=[Tallied(statement_id, "ab" * 32, hit, None)],
                            forward={statement_id: ("d",)}, salt=b"s" * 16), Known())
    [item] = plan.outbox
    assert item.hit == hit and item.statement_id is None and statement_id not in item.key
    again = plan_batch(Batch(tallied=[Tallied(statement_id, "ab" * 32, hit, None)],
                             forward={statement_id: ("d",)}, salt=b"t" * 16), Known())
    assert again.outbox[0].key != item.key  # keyed by the batch's own salt


def test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"items": []}'
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("secret", "1700000000", body) == f"sha256={expected}"
    assert sign("secret", "1700000001", body) != sign("secret", "1700000000", body)


def test_backoff_doubles_with_jitter_up_to_the_maximum() -> None:
    settings = Settings(forwarding_backoff_seconds=1, forwarding_backoff_max_seconds=10)
    for attempts, ceiling in ((0, 1000), (1, 2000), (2, 4000), (3, 8000), (4, 10_000),
                              (40, 10_000)):
        delays = {backoff_ms(attempts, settings) for _ in range(50)}
        assert all(ceiling // 2 <= d <= ceiling for d in delays), (attempts, delays)
        assert len(delays) > 1  # jittered
