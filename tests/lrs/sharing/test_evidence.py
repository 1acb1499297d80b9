"""Evidence and self-ratings folded from the changes a learner appended (lrs.sharing.evidence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from lrs.sharing.evidence import (
    LinkEvidence,
    RateSelf,
    fold,
    link_change,
    rate_change,
    require_assigned,
    unlink_change,
)
from lrs.sharing.parsing import parse
from statements.errors import InvalidRequest, NotFound

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IRI = "https://case.example/items/incidents"
STATEMENT = "0b5f0c7e-8d0e-4a53-9f3e-1b2d3c4e5f60"


def test_fold_links_unlinks_and_rates_with_history() -> None:
    entry = link_change(LinkEvidence(objective=IRI, kind="entry", ref="e1",
                                     title="Night shift"), T0)
    statement = link_change(LinkEvidence(objective=IRI, kind="statement", ref=STATEMENT),
                            T0 + timedelta(seconds=1))
    changes = [entry, statement, rate_change(RateSelf(objective=IRI, level=2,
                                                      note="getting there"),
                                             T0 + timedelta(seconds=2))]
    held = fold(changes[::-1])  # as a space may give them back: in any order
    assert [link["ref"] for link in held[IRI].links] == ["e1", STATEMENT]
    assert held[IRI].links[1]["title"] == STATEMENT  # untitled: named by its ref
    changes.append(unlink_change(held, entry["id"], T0 + timedelta(hours=1)))
    changes.append(rate_change(RateSelf(objective=IRI, level=3, note=""),
                               T0 + timedelta(hours=2)))
    now = fold(changes)[IRI]
    assert now.statement_ids() == [STATEMENT]
    assert now.rating is not None and now.rating["level"] == 3
    assert now.rating["label"] == "Competent"
    assert [r["level"] for r in now.ratings] == [2, 3]
    assert [h["change"] for h in now.history] == ["linked", "linked", "rated", "unlinked",
                                                  "rated"]
    assert now.history[3]["detail"] == "entry Night shift"


def test_fold_keeps_one_link_per_thing_and_skips_unknown_changes() -> None:
    sent = LinkEvidence(objective=IRI, kind="entry", ref="e1")
    held = fold([link_change(sent, T0), link_change(sent, T0),
                 {"type": "evidence.someday", "objective": IRI}, {"type": "evidence.rated"}])
    assert len(held[IRI].links) == 1 and len(held[IRI].history) == 1


def test_unlink_of_a_link_not_held_is_not_found() -> None:
    with pytest.raises(NotFound):
        unlink_change({}, "nope", T0)


@pytest.mark.parametrize(("body", "path"), [
    ({"objective": IRI, "level": 5}, "$.level"),
    ({"objective": IRI, "level": 0}, "$.level"),
    ({"objective": IRI, "level": "3"}, "$.level"),
    ({"objective": "", "level": 3}, "$.objective"),
    ({"objective": IRI, "level": 3, "extra": 1}, "$.extra"),
])
def test_rating_body_problems_name_their_path(body: dict[str, object], path: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse(RateSelf, orjson.dumps(body), "rating")
    assert [p.path for p in raised.value.problems] == [path]


def test_require_assigned_names_the_objective() -> None:
    assert require_assigned(IRI, {IRI: "Handles incidents"}) == "Handles incidents"
    with pytest.raises(InvalidRequest) as raised:
        require_assigned("https://other", {IRI: "Handles incidents"})
    assert raised.value.problems[0].path == "$.objective"
