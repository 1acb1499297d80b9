"""Retention classes and periods (pure)."""

from __future__ import annotations

from plugins.catalogue import Catalogue, CatalogueEntry
from plugins.retention import DAY_MS, RetentionClass, RetentionPolicy
from tests.factories import COURSE, make_statement

VIEWED = "http://id.tincanapi.com/verb/viewed"
PAGE = {"id": "http://intranet/page"}


def policy(default: int | None = None) -> RetentionPolicy:
    return RetentionPolicy(Catalogue([
        CatalogueEntry("activity", COURSE, retention_days=365),
        CatalogueEntry("prefix", "http://lms/forever/")]), {VIEWED: 30}, default)


def test_catalogue_period_comes_first_then_verb_then_default() -> None:
    assert policy().classify(make_statement(verb={"id": VIEWED})) == RetentionClass(
        f"catalogue:activity:{COURSE}", 365)
    assert policy().classify(make_statement(verb={"id": VIEWED}, object=PAGE)) == \
        RetentionClass(f"verb:{VIEWED}", 30)
    assert policy(90).classify(make_statement(object=PAGE)) == RetentionClass("default", 90)
    assert policy().classify(make_statement(object=PAGE)) == RetentionClass("default", None)


def test_an_entry_without_a_period_falls_through_to_the_verb() -> None:
    statement = make_statement(verb={"id": VIEWED}, object={"id": "http://lms/forever/x"})
    assert policy().classify(statement).name == f"verb:{VIEWED}"


def test_expired_counts_from_stored() -> None:
    statement = make_statement(verb={"id": VIEWED}, object=PAGE)
    assert policy().expired(statement, 0, 30 * DAY_MS) is None
    assert policy().expired(statement, 0, 30 * DAY_MS + 1) == RetentionClass(
        f"verb:{VIEWED}", 30)
    assert policy().expired(make_statement(object=PAGE), 0, 10**15) is None


def test_shortest_period() -> None:
    assert policy().shortest_days() == 30
    assert policy(7).shortest_days() == 7
    assert RetentionPolicy(Catalogue()).shortest_days() is None
