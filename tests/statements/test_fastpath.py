"""The fast validator agrees with the full one: what it accepts, the full one accepts alike."""

from __future__ import annotations

import copy
import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generator import generate
from statements import fastpath
from statements.datatypes import _DURATION, is_language_tag, parse_timestamp
from statements.models import _version
from statements.parsing import _FAST_MANY, _FAST_ONE, _MANY, _ONE
from tests.factories import make_statement, set_path
from tests.fuzz.strategies import broken_statements, statements
from tests.statements.test_parsing import REMOVE, RULES

AGREEMENT = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fast(body: bytes, single: bool = True) -> Any:
    """The fast verdict: the validated value, or None when the fast path declines."""
    try:
        return fastpath.validate(_FAST_ONE if single else _FAST_MANY, body)
    except ValueError:
        return None


def full(body: bytes, single: bool = True) -> Any:
    """The full verdict: the validated value, or None when the statement is invalid."""
    try:
        return (_ONE if single else _MANY).validate_json(body)
    except ValueError:
        return None


def assert_agree(body: bytes, single: bool = True) -> Any:
    """The fast path accepts nothing the full one rejects, and yields the same value."""
    quick = fast(body, single)
    if quick is not None:
        assert full(body, single) == quick
        assert orjson.dumps(full(body, single)) == orjson.dumps(quick)  # same key order
    return quick


def test_fastpath_accepts_the_benchmark_statements() -> None:
    # Realistic statements take the fast path: were it to decline them, it would be no use.
    corpus = generate(500, seed=7)
    body = orjson.dumps(corpus)
    assert assert_agree(body, single=False) is not None
    assert all(assert_agree(orjson.dumps(one)) is not None for one in corpus)


@pytest.mark.parametrize(("path", "value", "accepted", "rule"), RULES,
                         ids=[f"{rule}:{path}" for path, _, _, rule in RULES])
def test_fastpath_agrees_on_each_rule(path: str, value: Any, accepted: bool, rule: str) -> None:
    statement = set_path(make_statement(), path, value)
    if path.startswith("object") and value is not REMOVE and \
            isinstance(statement["object"], dict) and \
            statement["object"].get("objectType") not in (None, "Activity"):
        statement["context"].pop("platform", None)
    quick = assert_agree(orjson.dumps(statement))
    if not accepted:
        assert quick is None, rule


@AGREEMENT
@given(statements())
def test_fastpath_agrees_on_valid_statements(statement: dict[str, Any]) -> None:
    body = orjson.dumps(statement)
    assert full(body) is not None  # the strategy makes valid statements
    assert_agree(body)
    assert_agree(orjson.dumps([statement, statement]), single=False)


@AGREEMENT
@given(broken_statements())
def test_fastpath_rejects_broken_statements(broken: tuple[str, dict[str, Any]]) -> None:
    _, statement = broken
    assert assert_agree(orjson.dumps(statement)) is None


# Values near the edge of what each natively checked string type accepts.
EDGE_STRINGS = [
    "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
    "2026-01-01T24:00:00Z", "2026-01-01T23:59:60Z", "0000-01-01T00:00:00Z",
    "9999-12-31T23:00:00-05:00", "2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00-00:30",
    "2026-01-01T00:00:00.1234567891Z", "2026-01-01T00:00:00\n", "2026-01-01T00:00:00Z\n",
    "2026-01-0\u0661T00:00:00Z", "2026-01-01t00:00:00z", "2026-01-01T00:00Z",
    "P", "PT", "P1W", "P1WT1H", "PT1.5H", "P1Y2M3DT4H5M6.7S", "PT1H\n", "PT\u0661S", "P1DT",
    "en", "en-a-bbb-a-ccc", "en-a-bbb-b-ccc", "en\n", "x-private", "i-klingon",
    "en-\u0661\u0662\u0663",
    "1.0", "1.0.", "1.0.0\n", "2.0.\u0661", "1.1.0", "3.0.0",
]


def _with_edge(statement: dict[str, Any], kind: str, text: str) -> dict[str, Any]:
    if kind == "language tag":
        statement["verb"]["display"] = {text: "x"}
        return statement
    return set_path(statement, kind, text)


@pytest.mark.parametrize("text", EDGE_STRINGS)
@pytest.mark.parametrize("kind", ["timestamp", "result.duration", "language tag",
                                  "context.language", "version"])
def test_fastpath_agrees_on_edge_strings(kind: str, text: str) -> None:
    assert_agree(orjson.dumps(_with_edge(make_statement(), kind, text)))


def _string_paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [here]
    if isinstance(value, dict):
        inner = [p for key, item in value.items() for p in _string_paths(item, (*here, key))]
        return inner + [(*here, ("key", key)) for key in value]  # keys too (language maps)
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _string_paths(item, (*here, index))]
    return []


def _replace(document: Any, path: tuple[Any, ...], text: str) -> None:
    *parents, last = path
    for step in parents:
        document = document[step]
    if isinstance(last, tuple):  # a key
        document[text] = document.pop(last[1])
    else:
        document[last] = text


@AGREEMENT
@given(statements(), st.data())
def test_fastpath_agrees_when_a_string_is_near_the_edge(statement: dict[str, Any],
                                                        data: st.DataObject) -> None:
    statement = copy.deepcopy(statement)
    path = data.draw(st.sampled_from(_string_paths(statement)))
    _replace(statement, path, data.draw(st.sampled_from(EDGE_STRINGS)))
    assert_agree(orjson.dumps(statement))


# Moves that make a statement's unions and interaction rules pick another member.
SHAPES = [
    ("object", {"mbox": "mailto:a@example.com"}),  # an Agent object needs objectType
    ("object", {"objectType": "Agent", "mbox": "mailto:a@example.com"}),
    ("object", {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
    ("object", {"id": "http://e.com/a", "mbox": "mailto:a@example.com"}),
    ("object", {"objectType": 5, "id": "http://e.com/a"}),
    ("object", {"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://e.com/v"}, "object": {"mbox": "mailto:b@example.com"}}),
    ("actor", {"objectType": "Agent", "member": [{"mbox": "mailto:a@example.com"}],
               "mbox": "mailto:g@example.com"}),
    ("actor", {"member": [{"mbox": "mailto:a@example.com"}]}),
    ("actor", []),
    ("object.definition", {"choices": [{"id": "a"}]}),
    ("object.definition", {"interactionType": "choice", "choices": [{"id": "a"}]}),
    ("object.definition", {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}),
    ("object.definition", {"correctResponsesPattern": []}),
    ("object.definition", {"interactionType": "other"}),
    ("context.contextActivities.parent", []),
    ("context.contextActivities.parent", {"id": "http://e.com/p"}),
    ("context.contextActivities.parent", [[{"id": "http://e.com/p"}]]),
]


@pytest.mark.parametrize(("path", "value"), SHAPES)
def test_fastpath_agrees_on_union_members(path: str, value: Any) -> None:
    statement = set_path(make_statement(), path, value)
    statement["context"].pop("platform", None)
    assert_agree(orjson.dumps(statement))


# Every string a native pattern accepts, the Python check it stands for accepts too.
def _timestamp_ok(text: str) -> bool:
    parse_timestamp(text)
    return True


SUBSETS = [
    (fastpath.TIMESTAMP_SUBSET, _timestamp_ok),
    (fastpath.DURATION_SUBSET, lambda text: bool(_DURATION.match(text))),
    (fastpath.LANGUAGE_TAG_SUBSET, is_language_tag),
    (fastpath.VERSION_SUBSET, lambda text: bool(_version(text))),
]


@pytest.mark.parametrize(("pattern", "check"), SUBSETS, ids=["timestamp", "duration",
                                                            "language tag", "version"])
@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(data=st.data())
def test_fastpath_pattern_accepts_a_subset(pattern: str, check: Any, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(re.compile(pattern), fullmatch=True))
    assert check(text)
