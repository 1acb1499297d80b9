"""Completion rules and calendar periods, without a store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from statements.completion import COMPLETED, PASSED, CompletionRule, Period


@pytest.mark.parametrize(("start", "period", "end"), [
    ("2025-01-31T10:00:00", "P1M", "2025-02-28T10:00:00"),
    ("2024-01-31T10:00:00", "P1M", "2024-02-29T10:00:00"),
    ("2024-02-29T00:00:00", "P1Y", "2025-02-28T00:00:00"),
    ("2025-03-15T08:30:00", "P12M", "2026-03-15T08:30:00"),
    ("2025-11-30T00:00:00", "P1Y3M", "2027-02-28T00:00:00"),
    ("2025-12-25T00:00:00", "P2W", "2026-01-08T00:00:00"),
    ("2025-12-25T00:00:00", "P90D", "2026-03-25T00:00:00"),
])
def test_period_after_moves_the_calendar(start: str, period: str, end: str) -> None:
    moment = datetime.fromisoformat(start).replace(tzinfo=UTC)
    assert Period.parse(period).after(moment) == datetime.fromisoformat(end).replace(tzinfo=UTC)


def test_period_before_goes_back() -> None:
    moment = datetime(2026, 3, 31, tzinfo=UTC)
    assert Period.parse("P1M").before(moment) == datetime(2026, 2, 28, tzinfo=UTC)
    assert Period.parse("P30D").before(moment) == datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "P", "P0D", "12M", "P1.5Y", "PT12H", "P1Y2D3M", "p1y"])
def test_period_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|empty period"):
        Period.parse(text)


def statement(verb: str, result: dict[str, object] | None = None) -> dict[str, object]:
    out: dict[str, object] = {"verb": {"id": verb}}
    if result is not None:
        out["result"] = result
    return out


def test_a_verbs_rule_ignores_the_result_flags() -> None:
    rule = CompletionRule(verbs=frozenset({PASSED}))
    assert rule.reason(statement(PASSED)) == "verb passed"
    assert rule.reason(statement(COMPLETED, {"completion": True, "success": True})) is None


def test_min_score_needs_a_scaled_score() -> None:
    rule = CompletionRule(min_score=0.5)
    assert rule.reason(statement(PASSED, {"score": {"raw": 90}})) is None
    assert rule.reason(statement(PASSED, {"score": {"scaled": 0.49}})) is None
    assert rule.reason(statement(PASSED, {"score": {"scaled": 0.5}})) == \
        "verb passed, result.score.scaled 0.5 ≥ 0.5"


def test_rule_json_round_trip_leaves_defaults_out() -> None:
    rule = CompletionRule(verbs=frozenset({PASSED}), success_required=True, min_score=0.8)
    assert CompletionRule.from_json(rule.to_json()) == rule
    assert CompletionRule().to_json() == {} and CompletionRule.from_json(None).is_default
