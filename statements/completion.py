"""Completion rules and validity periods: when a kept statement shows a mandatory activity done.

A `CompletionRule` is judged on one statement at a time. The default (`CompletionRule()`)
counts a statement whose verb is ADL `completed`, `passed` or `mastered` or cmi5
`satisfied`, unless its own result contradicts the verb (`result.completion` or
`result.success` false), or whose `result.completion` or `result.success` is true (Data
§2.4.5: those two are the statement's own word on completion and success). A configured rule
narrows that: `verbs` replaces the default test (only those verbs count), `success_required`
also asks for `result.success` true, `min_score` for `result.score.scaled` at least that.

A `Period` is an ISO 8601 duration of whole years, months, weeks and days (`P12M`, `P1Y`,
`P90D`, `P1Y6M`, `P2W`); no time part. Added to a date-time it moves the calendar: months
keep the day of the month, clamped to the month's last day (31 January + P1M = 28 or 29
February), the time of day is kept.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED: Final = ADL + "completed"
PASSED: Final = ADL + "passed"
MASTERED: Final = ADL + "mastered"
SATISFIED: Final = "https://w3id.org/xapi/adl/verbs/satisfied"  # cmi5 §9.3.9
DEFAULT_VERBS: Final = frozenset({COMPLETED, PASSED, MASTERED, SATISFIED})

_PERIOD = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")
PERIOD_FORMAT = ("an ISO 8601 duration of whole years, months, weeks or days, such as P12M, "
                 "P1Y, P90D or P1Y6M (no time part)")


@dataclass(frozen=True)
class CompletionRule:
    """What a statement needs to show its activity completed (see the module docstring)."""

    verbs: frozenset[str] | None = None
    success_required: bool = False
    min_score: float | None = None

    @property
    def is_default(self) -> bool:
        """True for the rule an entry without one gets."""
        return self == DEFAULT_RULE

    def reason(self, statement: Mapping[str, Any]) -> str | None:
        """Why `statement` completes the activity under this rule ("verb passed, score 0.9
        ≥ 0.8"), or None when it does not."""
        verb = statement.get("verb", {}).get("id", "")
        result = statement.get("result")
        result = result if isinstance(result, Mapping) else {}
        parts: list[str]
        if self.verbs is not None:
            if verb not in self.verbs:
                return None
            parts = [f"verb {verb_name(verb)}"]
        elif verb in DEFAULT_VERBS and result.get("completion") is not False \
                and result.get("success") is not False:
            parts = [f"verb {verb_name(verb)}"]
        elif result.get("completion") is True:
            parts = ["result.completion true"]
        elif result.get("success") is True:
            parts = ["result.success true"]
        else:
            return None
        if self.success_required:
            if result.get("success") is not True:
                return None
            if "result.success true" not in parts:
                parts.append("result.success true")
        if self.min_score is not None:
            score = result.get("score")
            scaled = score.get("scaled") if isinstance(score, Mapping) else None
            if not isinstance(scaled, int | float) or scaled < self.min_score:
                return None
            parts.append(f"result.score.scaled {scaled:g} ≥ {self.min_score:g}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The rule as the catalogue file writes it (only what differs from the default)."""
        out: dict[str, Any] = {}
        if self.verbs is not None:
            out["verbs"] = sorted(self.verbs)
        if self.success_required:
            out["success_required"] = True
        if self.min_score is not None:
            out["min_score"] = self.min_score
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> CompletionRule:
        """The rule of a (schema-checked) catalogue `completion` object; None: the default."""
        if not raw:
            return cls()
        verbs = raw.get("verbs")
        min_score = raw.get("min_score")
        return cls(verbs=None if verbs is None else frozenset(verbs),
                   success_required=bool(raw.get("success_required", False)),
                   min_score=None if min_score is None else float(min_score))


DEFAULT_RULE: Final = CompletionRule()


def verb_name(iri: str) -> str:
    """The last segment of a verb IRI (`passed`), for messages."""
    return iri.rstrip("/").rsplit("/", 1)[-1] or iri


@dataclass(frozen=True)
class Period:
    """A calendar period (see the module docstring); `text` is how it was written."""

    years: int = 0
    months: int = 0
    days: int = 0
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Period:
        """`P12M` and the like; ValueError saying what is accepted otherwise."""
        match = _PERIOD.fullmatch(text)
        if match is None or text == "P" or not any(match.groups()):
            raise ValueError(f"{text!r} is not {PERIOD_FORMAT}")
        years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
        if years == months == weeks == days == 0:
            raise ValueError(f"{text!r} is an empty period; give at least one day")
        return cls(years=years, months=months, days=weeks * 7 + days, text=text)

    def after(self, moment: datetime) -> datetime:
        """`moment` moved forward by this period."""
        return _shift(moment, self.years * 12 + self.months, self.days)

    def before(self, moment: datetime) -> datetime:
        """`moment` moved back by this period."""
        return _shift(moment, -(self.years * 12 + self.months), -self.days)

    def __str__(self) -> str:
        return self.text


def parse_period(text: str | None) -> Period | None:
    """Period.parse, None staying None."""
    return None if text is None else Period.parse(text)


def _shift(moment: datetime, months: int, days: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day) + timedelta(days=days)
