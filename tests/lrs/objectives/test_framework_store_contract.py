"""The FrameworkStore contract, written once and run over every reachable engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from lrs.objectives import Assignment, Format, Framework, Objective
from lrs.objectives.case import load_case
from lrs.storage import Storage

DATA = Path(__file__).parents[2] / "data" / "case"
NOW = datetime(2026, 12, 4, 12, 30, 15, 250_000, tzinfo=UTC)


def standards() -> Framework:
    return load_case((DATA / "opensalt-what-standards-could-be.json").read_bytes(), now=NOW,
                     source="standards.json")


def small(framework_id: str, title: str, *iris: str) -> Framework:
    return Framework(id=framework_id, iri=f"https://example.com/f/{framework_id}", title=title,
                     format=Format.JSON, loaded=NOW, language="en",
                     objectives=tuple(Objective(iri=i, title=i.rsplit("/", 1)[-1])
                                      for i in iris))


async def test_frameworks_put_then_get_round_trips(storage: Storage) -> None:
    framework = standards()
    assert await storage.frameworks.put(framework) is True
    assert await storage.frameworks.get(framework.id) == framework
    assert await storage.frameworks.get("no-such-framework") is None


async def test_frameworks_put_again_replaces_and_keeps_the_assignment(storage: Storage
                                                                      ) -> None:
    first = small("sales", "Sales", "https://example.com/o/a", "https://example.com/o/b")
    await storage.frameworks.put(first)
    await storage.frameworks.assign("sales", ["emea"])
    second = replace(first, title="Sales 2027",
                     objectives=(Objective(iri="https://example.com/o/c", title="c"),))
    assert await storage.frameworks.put(second) is False
    assert await storage.frameworks.get("sales") == second
    assert await storage.frameworks.assignments() == [Assignment("sales", frozenset({"emea"}))]
    # The replaced objectives are no longer found; the new one is.
    assert await storage.frameworks.find_objective("https://example.com/o/a") == []
    assert await storage.frameworks.find_objective("https://example.com/o/c") == [
        (second, second.objectives[0])]


async def test_frameworks_all_by_title_then_id(storage: Storage) -> None:
    for framework_id, title in (("b", "Leadership"), ("a", "Safety"), ("c", "Leadership")):
        await storage.frameworks.put(small(framework_id, title, f"https://example.com/{title}"))
    assert [f.id for f in await storage.frameworks.all()] == ["b", "c", "a"]


async def test_frameworks_delete_removes_framework_and_assignment(storage: Storage) -> None:
    await storage.frameworks.put(small("x", "X", "https://example.com/o/x"))
    await storage.frameworks.assign("x", ["staff"])
    assert await storage.frameworks.delete("x") is True
    assert await storage.frameworks.delete("x") is False
    assert await storage.frameworks.get("x") is None
    assert await storage.frameworks.assignments() == []
    assert await storage.frameworks.assigned_to(["staff"]) == []
    assert await storage.frameworks.find_objective("https://example.com/o/x") == []
    # A framework loaded again under a deleted id starts with no groups.
    await storage.frameworks.put(small("x", "X", "https://example.com/o/x"))
    assert await storage.frameworks.assignments() == [Assignment("x", frozenset())]


async def test_frameworks_assign_replaces_the_groups(storage: Storage) -> None:
    sales = small("sales", "Sales", "https://example.com/o/s")
    safety = small("safety", "Safety", "https://example.com/o/h")
    for framework in (sales, safety):
        await storage.frameworks.put(framework)
    assert await storage.frameworks.assign("sales", ["emea", "apac", "emea"]) is True
    assert await storage.frameworks.assign("safety", ["everyone"]) is True
    assert await storage.frameworks.assign("nope", ["emea"]) is False
    assert await storage.frameworks.assignments() == [
        Assignment("safety", frozenset({"everyone"})),
        Assignment("sales", frozenset({"apac", "emea"}))]
    assert await storage.frameworks.assigned_to(["emea", "other"]) == [sales]
    assert await storage.frameworks.assigned_to(["everyone", "apac"]) == [safety, sales]
    assert await storage.frameworks.assigned_to([]) == []
    await storage.frameworks.assign("sales", [])
    assert await storage.frameworks.assigned_to(["emea", "apac"]) == []


async def test_frameworks_find_objective_in_every_framework_holding_it(storage: Storage
                                                                       ) -> None:
    shared = "https://example.com/o/shared"
    one = small("one", "One", shared, "https://example.com/o/1")
    two = small("two", "Two", "https://example.com/o/2", shared)
    for framework in (one, two):
        await storage.frameworks.put(framework)
    found = await storage.frameworks.find_objective(shared)
    assert [(f.id, o.iri) for f, o in found] == [("one", shared), ("two", shared)]
    assert await storage.frameworks.find_objective("https://example.com/o/none") == []
