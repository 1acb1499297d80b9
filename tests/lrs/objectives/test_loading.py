"""Loading frameworks: published CASE packages (OpenSALT's, tests/data/case), CSV and JSON;
every mistake a 400 naming the JSON path or the CSV line."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lrs.objectives import Format
from lrs.objectives.case import is_case, load_case
from lrs.objectives.loading import load_csv, load_json
from statements.errors import InvalidRequest

DATA = Path(__file__).parents[2] / "data" / "case"
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
STANDARDS = DATA / "opensalt-what-standards-could-be.json"
URI = "http://opensalt-staging.opened.com/uri/"


def package() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(STANDARDS.read_bytes())
    return loaded


def problem_of(excinfo: pytest.ExceptionInfo[InvalidRequest]) -> tuple[str, str]:
    (problem,) = excinfo.value.problems
    return problem.path, problem.message


def test_case_package_from_opensalt_loads_as_a_tree() -> None:
    framework = load_case(STANDARDS.read_bytes(), now=NOW, source="standards.json")
    assert framework.id == "20c5134f-423d-4097-a971-3dd5152bf507"
    assert framework.iri == URI + "20c5134f-423d-4097-a971-3dd5152bf507"
    assert framework.title == "What Standards Could Be"
    assert framework.publisher == "Brandon Dorman" and framework.format is Format.CASE
    assert len(framework.objectives) == 16
    # Top level by sequenceNumber: 6.RP.A (1) before 7.RP.A (2).
    top = [o.code for o in framework.children(None)]
    assert top == ["CCSS.Math.Content.6.RP.A", "CCSS.Math.Content.7.RP.A"]
    cluster = framework.objectives[0]
    assert cluster.iri == URI + "edfce0e7-dbbf-40d5-af1a-baccabef85e9"
    assert cluster.kind == "Cluster" and cluster.parent is None
    assert cluster.title == ("Understand ratio concepts and use ratio reasoning to solve "
                             "problems.")
    # Children keep the order of CFItems (no sequenceNumber on them).
    assert [o.code for o in framework.children(cluster.iri)] == [
        "CCSS.Math.Content.6.RP.A.1", "CCSS.Math.Content.6.RP.A.2",
        "CCSS.Math.Content.6.RP.A.3"]
    three = framework.objective(URI + "d83a65ed-770c-4dbe-a505-11e5e17a9a79")
    assert three is not None
    assert [o.code for o in framework.children(three.iri)] == [
        f"CCSS.Math.Content.6.RP.A.3{x}" for x in "abcd"]
    # Document order: each parent before its children, depth first.
    seen: set[str] = set()
    for objective in framework.objectives:
        assert objective.parent is None or objective.parent in seen
        seen.add(objective.iri)
    notes = framework.objective(URI + "b6f61076-aa12-450b-8f9d-b86bc071f85e")
    assert notes is not None and notes.description is not None
    assert notes.description.startswith("For example, \"The ratio of wings")


def test_case_sequence_numbers_order_siblings_over_the_file_order() -> None:
    framework = load_case((DATA / "opensalt-sequence-number.json").read_bytes(), now=NOW)
    assert [o.title for o in framework.objectives] == [
        "Second added item, but should be first", "First Added Item"]


def test_case_package_wrapped_in_cfpackage_and_abbreviated_titles() -> None:
    document = package()
    document["CFItems"][0]["abbreviatedStatement"] = "Ratio concepts"
    wrapped = {"CFPackage": document}
    assert is_case(wrapped) and is_case(document) and not is_case({"objectives": []})
    framework = load_case(orjson.dumps(wrapped), now=NOW)
    first = framework.objectives[0]
    assert first.title == "Ratio concepts"
    assert first.description is not None and first.description.startswith("Understand ratio")


def test_case_1_1_additions_load_alike() -> None:
    """What CASE 1.1 adds to a CFPackage (its JSON schema: CFRubrics, `extensions` on every
    class, `ext:` association types, LinkGenURI's targetType, CFPackageURI as a LinkURI)
    changes nothing of the tree."""
    document = package()
    document["CFDocument"]["CFPackageURI"] = {
        "title": "What Standards Could Be", "identifier": document["CFDocument"]["identifier"],
        "uri": document["CFDocument"]["uri"]}
    document["CFDocument"]["frameworkType"] = "Standards"
    document["CFDocument"]["licenseURI"] = {"title": "CC BY 4.0", "identifier": "x",
                                            "uri": "https://creativecommons.org/licenses/by/4.0/"}
    document["CFRubrics"] = []
    document["extensions"] = {"vendor": True}
    for item in document["CFItems"]:
        item["extensions"] = {"vendor": "x"}
    for association in document["CFAssociations"]:
        association["originNodeURI"]["targetType"] = "CFItem"
    document["CFAssociations"].append({**document["CFAssociations"][0],
                                       "associationType": "ext:alignsWith"})
    loaded = load_case(orjson.dumps(document), now=NOW)
    original = load_case(STANDARDS.read_bytes(), now=NOW)
    assert loaded.objectives == original.objectives
    assert loaded.licence == "https://creativecommons.org/licenses/by/4.0/"


def _break(path: list[Any], value: Any) -> dict[str, Any]:
    document = package()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


_DELETE = object()
_CHILD = next(i for i, a in enumerate(package()["CFAssociations"])
              if a["associationType"] == "isChildOf")

CASE_MISTAKES: list[tuple[list[Any], Any, str]] = [
    (["CFDocument"], _DELETE, "$.CFDocument"),
    (["CFDocument", "identifier"], _DELETE, "$.CFDocument.identifier"),
    (["CFDocument", "identifier"], "not/an id", "$.CFDocument.identifier"),
    (["CFDocument", "uri"], "not an iri", "$.CFDocument.uri"),
    (["CFDocument", "title"], "  ", "$.CFDocument.title"),
    (["CFDocument", "language"], "not a tag!", "$.CFDocument.language"),
    (["CFItems"], _DELETE, "$.CFItems"),
    (["CFAssociations"], [{"associationType": "isChildOf", "originNodeURI": {"title": "x"},
                           "destinationNodeURI": {"identifier": "x"}}],
     "$.CFAssociations[0].originNodeURI.identifier"),
    (["CFItems"], {"a": 1}, "$.CFItems"),
    (["CFItems", 3], "item", "$.CFItems[3]"),
    (["CFItems", 3, "uri"], _DELETE, "$.CFItems[3].uri"),
    (["CFItems", 3, "uri"], "relative/uri", "$.CFItems[3].uri"),
    (["CFItems", 3, "fullStatement"], 7, "$.CFItems[3].fullStatement"),
    (["CFItems", 3, "identifier"], "b6f61076-aa12-450b-8f9d-b86bc071f85e",
     "$.CFItems[3].identifier"),
    (["CFAssociations"], "x", "$.CFAssociations"),
    (["CFAssociations", _CHILD, "originNodeURI"], _DELETE,
     f"$.CFAssociations[{_CHILD}].originNodeURI"),
    (["CFAssociations", _CHILD, "originNodeURI", "identifier"], "no-such-item",
     f"$.CFAssociations[{_CHILD}].originNodeURI.identifier"),
    (["CFAssociations", _CHILD, "destinationNodeURI", "identifier"], "elsewhere",
     f"$.CFAssociations[{_CHILD}].destinationNodeURI.identifier"),
]


@pytest.mark.parametrize(("path", "value", "where"), CASE_MISTAKES)
def test_case_mistakes_name_their_json_path(path: list[Any], value: Any, where: str) -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        load_case(orjson.dumps(_break(path, value)), now=NOW)
    assert problem_of(excinfo)[0] == where


def test_case_not_json_or_not_an_object_or_empty() -> None:
    empty = orjson.dumps({**package(), "CFItems": [], "CFAssociations": []})
    for body in (b"{not json", b"[1, 2]", empty):
        with pytest.raises(InvalidRequest) as excinfo:
            load_case(body, now=NOW)
        assert problem_of(excinfo)[0] == "$"


def test_case_parent_cycle_is_refused() -> None:
    document = package()
    # 6.RP.A (top) made a child of its own grandchild 6.RP.A.3.
    for association in document["CFAssociations"]:
        if association["associationType"] == "isChildOf" and \
                association["originNodeURI"]["identifier"].startswith("edfce0e7"):
            association["destinationNodeURI"] = copy.deepcopy(
                {"identifier": "d83a65ed-770c-4dbe-a505-11e5e17a9a79"})
    with pytest.raises(InvalidRequest, match="cycle"):
        load_case(orjson.dumps(document), now=NOW)


CSV = (b"\xef\xbb\xbfid,title,description,parent,code\n"
       b"https://example.com/c/sell,Selling,,,S\n"
       b"https://example.com/c/listen,Listen to the customer,\"Ask, then listen\","
       b"https://example.com/c/sell,S.1\n"
       b"\n"
       b"https://example.com/c/close,Close the sale,,https://example.com/c/sell,S.2\n")


def test_csv_loads_with_a_given_title_and_a_new_id() -> None:
    framework = load_csv(CSV, title="Sales skills", now=NOW, source="sales.csv")
    assert framework.title == "Sales skills" and framework.format is Format.CSV
    assert framework.iri == f"urn:tally-lrs:framework:{framework.id}"
    assert [(o.code, o.parent) for o in framework.objectives] == [
        ("S", None), ("S.1", "https://example.com/c/sell"),
        ("S.2", "https://example.com/c/sell")]
    assert framework.objectives[1].description == "Ask, then listen"
    again = load_csv(CSV, title="Sales skills", now=NOW, given_id="sales-2026",
                     given_iri="https://example.com/frameworks/sales")
    assert again.id == "sales-2026" and again.iri == "https://example.com/frameworks/sales"


CSV_MISTAKES: list[tuple[bytes, str]] = [
    (b"", "line 1"),
    (b"id,name\nhttps://example.com/a,A\n", "line 1"),  # unknown column
    (b"title\nA\n", "line 1"),  # no id column
    (b"id,title\nhttps://example.com/a,A\nhttps://example.com/b\n", "line 3"),
    (b"id,title\nhttps://example.com/a,A\nnot an iri,B\n", "line 3, column id"),
    (b"id,title\nhttps://example.com/a,\n", "line 2, column title"),
    (b"id,title,parent\nhttps://example.com/a,A,https://example.com/zz\n",
     "line 2, column parent"),
    (b"id,title\nhttps://example.com/a,A\nhttps://example.com/a,B\n", "line 3"),
    (b"id,title\n\xff\xfe,A\n", "byte 9"),
    (b"id,title\n", "$"),
]


@pytest.mark.parametrize(("body", "where"), CSV_MISTAKES)
def test_csv_mistakes_name_their_line(body: bytes, where: str) -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        load_csv(body, title="T", now=NOW)
    assert problem_of(excinfo)[0] == where


def test_csv_title_and_id_come_with_the_upload() -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        load_csv(CSV, title=" ", now=NOW)
    assert problem_of(excinfo)[0] == "?title"
    with pytest.raises(InvalidRequest) as excinfo:
        load_csv(CSV, title="T", given_id="../etc", now=NOW)
    assert problem_of(excinfo)[0] == "?id"


JSON: dict[str, Any] = {
    "id": "leadership", "iri": "https://example.com/frameworks/leadership",
    "title": "Leadership", "language": "en-GB",
    "objectives": [
        {"id": "https://example.com/l/people", "title": "Leads people", "code": "L1"},
        {"id": "https://example.com/l/feedback", "title": "Gives feedback",
         "parent": "https://example.com/l/people", "description": "Timely and specific"}]}


def test_json_loads() -> None:
    framework = load_json(orjson.dumps(JSON), now=NOW)
    assert (framework.id, framework.language, framework.format) == (
        "leadership", "en-GB", Format.JSON)
    assert framework.objectives[1].parent == "https://example.com/l/people"


JSON_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"objectives": []}, "$"),
    ({"colour": "red"}, "$.colour"),
    ({"objectives": None}, "$.objectives"),
    ({"title": None}, "$.title"),
    ({"id": "a b"}, "$.id"),
    ({"iri": "nope"}, "$.iri"),
    ({"objectives": [{"id": "https://example.com/a"}]}, "$.objectives[0].title"),
    ({"objectives": [{"id": "https://example.com/a", "title": "A", "x": 1}]},
     "$.objectives[0].x"),
    ({"objectives": ["a"]}, "$.objectives[0]"),
    ({"objectives": [{"id": "https://example.com/a", "title": "A",
                      "parent": "https://example.com/a"}]}, "$.objectives[0].parent"),
]


@pytest.mark.parametrize(("change", "where"), JSON_MISTAKES)
def test_json_mistakes_name_their_path(change: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        load_json(orjson.dumps({**JSON, **change}), now=NOW)
    assert problem_of(excinfo)[0] == where
