"""The compliance catalogue (DESIGN §3 rule 1): matching statements, loading and dumping files."""

from __future__ import annotations

import json
import random
import textwrap
from typing import Any

import pytest

from plugins.catalogue import (
    CATALOGUE_SCHEMA,
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    dump_catalogue,
    load_catalogue,
)
from tests.factories import make_agent, make_statement

COURSE = "http://example.com/courses/fire-safety"
MODULE_TYPE = "http://adlnet.gov/expapi/activities/module"

EXACT = CatalogueEntry("activity", COURSE, name="Fire safety")
PREFIX = CatalogueEntry("prefix", "http://example.com/mandatory/", retention_days=365)
TYPE = CatalogueEntry("type", "http://example.com/types/mandatory-course")
CATALOGUE = Catalogue([EXACT, PREFIX, TYPE])


def activity(activity_id: str, activity_type: str | None = None) -> dict[str, Any]:
    """An Activity object, with a definition type when given."""
    out: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if activity_type is not None:
        out["definition"] = {"type": activity_type}
    return out


def about(target: dict[str, Any], **context_activities: Any) -> dict[str, Any]:
    """A statement whose object is `target`, with exactly these contextActivities."""
    context = {"contextActivities": context_activities} if context_activities else None
    return make_statement(object=target, context=context)


OTHER = activity("http://example.com/courses/other", MODULE_TYPE)

# (statement, the entry it must match)
MATCHING: list[tuple[str, dict[str, Any], CatalogueEntry]] = [
    ("exact id", about(activity(COURSE)), EXACT),
    ("objectType absent", about({"id": COURSE}), EXACT),
    ("prefix", about(activity("http://example.com/mandatory/gdpr/1")), PREFIX),
    ("prefix itself", about(activity(PREFIX.value)), PREFIX),
    ("type", about(activity("http://example.com/x", TYPE.value)), TYPE),
    ("parent list", about(OTHER, parent=[OTHER, activity(COURSE)]), EXACT),
    ("parent single object", about(OTHER, parent=activity(COURSE)), EXACT),
    ("grouping list", about(OTHER, grouping=[activity("http://example.com/mandatory/a")]),
     PREFIX),
    ("grouping single object", about(OTHER, grouping={"id": "http://x.org/a",
                                                      "definition": {"type": TYPE.value}}), TYPE),
    ("object before parent", about(activity(COURSE), parent=[
        activity("http://example.com/mandatory/a")]), EXACT),
    ("agent object, grouping", about(make_agent("bob"), grouping=[activity(COURSE)]), EXACT),
]


@pytest.mark.parametrize(("statement", "expected"), [(s, e) for _, s, e in MATCHING],
                         ids=[case for case, _, _ in MATCHING])
def test_catalogue_matches_returns_entry_when_activity_listed(
        statement: dict[str, Any], expected: CatalogueEntry) -> None:
    assert CATALOGUE.matches(statement) == expected


SUBSTATEMENT = {"objectType": "SubStatement", "actor": make_agent("sub"),
                "verb": {"id": "http://example.com/verbs/planned"}, "object": activity(COURSE),
                "context": {"contextActivities": {"parent": [activity(COURSE)]}}}
STATEMENT_REF = {"objectType": "StatementRef", "id": "0f5e1a2c-7b4f-4b5e-9a43-7c2d8e1f6a90"}

# Entries that a careless matcher (one that ignores objectType or looks at any id) would hit.
TRAPS = Catalogue([EXACT, PREFIX, TYPE, CatalogueEntry("activity", STATEMENT_REF["id"]),
                   CatalogueEntry("activity", "mailto:bob@example.com")])

NOT_MATCHING: list[tuple[str, dict[str, Any]]] = [
    ("unlisted activity", about(OTHER, parent=[OTHER], grouping=OTHER)),
    ("category", about(OTHER, category=[activity(COURSE)])),
    ("other", about(OTHER, other=activity("http://example.com/mandatory/a"))),
    ("no context", about(OTHER)),
    ("prefix is longer than id", about(activity("http://example.com/mandatory"))),
    ("case differs", about(activity(COURSE.upper()))),
    ("agent object", about(make_agent("bob"))),
    ("group object", about({"objectType": "Group", "member": [make_agent("bob")]})),
    ("statement ref object", about(STATEMENT_REF)),
    # Chosen: a SubStatement is not looked inside. It describes a statement (a plan, an
    # assignment: Data §2.4.4.3), not an experience of the activity, and the DESIGN §3 rule
    # names the statement's own object and context. A statement about a catalogued activity
    # still matches through its own parent/grouping (see "agent object, grouping" above).
    ("substatement", about(SUBSTATEMENT)),
]


@pytest.mark.parametrize("statement", [s for _, s in NOT_MATCHING],
                         ids=[case for case, _ in NOT_MATCHING])
def test_catalogue_matches_returns_none_when_not_listed(statement: dict[str, Any]) -> None:
    assert TRAPS.matches(statement) is None


@pytest.mark.parametrize(("listed", "expected"), [
    (["activity", "prefix", "type"], "activity"),
    (["prefix", "type"], "prefix"),
    (["type"], "type"),
])
def test_catalogue_matches_prefers_exact_then_prefix_then_type_when_several_fit(
        listed: list[str], expected: str) -> None:
    target = activity("http://example.com/mandatory/gdpr", TYPE.value)
    values = {"activity": target["id"], "prefix": PREFIX.value, "type": TYPE.value}
    catalogue = Catalogue(CatalogueEntry(kind, values[kind])  # type: ignore[arg-type]
                          for kind in reversed(listed))
    found = catalogue.matches(about(target))
    assert found is not None and found.kind == expected


def test_catalogue_matches_returns_none_when_empty() -> None:
    assert Catalogue().matches(about(activity(COURSE))) is None


@pytest.mark.parametrize(("iri", "expected"), [
    ("http://a.org/x/y/z", "http://a.org/x/y/"),  # the longest of nested prefixes
    ("http://a.org/x/q", "http://a.org/x/"),  # "http://a.org/x/p/" sorts between, no match
    ("http://a.org/x/p/1", "http://a.org/x/p/"),
    ("http://a.org/xy", None),
    ("http://a.org/", None),
])
def test_catalogue_prefix_returns_longest_when_prefixes_nest(iri: str,
                                                             expected: str | None) -> None:
    catalogue = Catalogue(CatalogueEntry("prefix", p) for p in
                          ["http://a.org/x/", "http://a.org/x/y/", "http://a.org/x/p/"])
    found = catalogue.matches(about(activity(iri)))
    assert (found.value if found else None) == expected


def test_catalogue_prefix_agrees_with_brute_force_when_many_entries() -> None:
    rng = random.Random(20260102)

    def iri() -> str:
        return "http://e.org/" + "/".join(rng.choice("ab") * rng.randint(1, 2)
                                          for _ in range(rng.randint(0, 4)))

    prefixes = {iri() for _ in range(300)}
    catalogue = Catalogue(CatalogueEntry("prefix", p) for p in prefixes)
    for _ in range(2000):
        candidate = iri()
        fitting = [p for p in prefixes if candidate.startswith(p)]
        found = catalogue.matches(about(activity(candidate)))
        assert (found.value if found else None) == max(fitting, key=len, default=None)


def test_catalogue_entry_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="'exact' is not one of"):
        CatalogueEntry("exact", COURSE)  # type: ignore[arg-type]  # the point of the test


def test_catalogue_len_counts_distinct_entries() -> None:
    assert len(Catalogue([EXACT, EXACT, PREFIX])) == 2
    assert set(CATALOGUE) == {EXACT, PREFIX, TYPE}


# --- the file format ---

ENTRIES = [
    CatalogueEntry("activity", COURSE, name="Sécurité incendie", retention_days=3650),
    CatalogueEntry("prefix", "https://lms.example.com/mandatory/"),
    CatalogueEntry("type", "http://example.com/types/mandatory-course", name="Mandatory"),
]

VALID_YAML = """\
# mandatory training
version: 1
entries:
  - kind: activity
    value: http://example.com/courses/fire-safety
    name: Sécurité incendie
    retention_days: 3650
  - {kind: prefix, value: "https://lms.example.com/mandatory/"}
  - kind: type
    value: http://example.com/types/mandatory-course
    name: Mandatory
    retention_days:
"""


def test_catalogue_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    Draft202012Validator.check_schema(CATALOGUE_SCHEMA)


@pytest.mark.parametrize("filename", ["catalogue.yaml", "catalogue.yml", "catalogue.txt"])
def test_load_catalogue_reads_entries_when_yaml(filename: str) -> None:
    assert load_catalogue(VALID_YAML, filename=filename) == ENTRIES


@pytest.mark.parametrize("filename", ["catalogue.json", "request.JSON", "catalogue"])
def test_load_catalogue_reads_entries_when_json(filename: str) -> None:
    text = "\ufeff" + json.dumps({"version": 1, "entries": [
        {"kind": "activity", "value": COURSE, "name": "Sécurité incendie",
         "retention_days": 3650},
        {"kind": "prefix", "value": "https://lms.example.com/mandatory/", "name": None},
        {"kind": "type", "value": "http://example.com/types/mandatory-course",
         "name": "Mandatory"}]}, indent="\t")
    assert load_catalogue(text, filename=filename) == ENTRIES


def test_load_catalogue_returns_nothing_when_no_entries() -> None:
    assert load_catalogue('{"version": 1, "entries": []}', filename="c.json") == []


def test_dump_catalogue_round_trips_through_load() -> None:
    text = dump_catalogue(ENTRIES)
    assert load_catalogue(text, filename="export.json") == ENTRIES
    assert dump_catalogue(load_catalogue(text, filename="export")) == text
    assert "Sécurité" in text  # readable, not \\u-escaped


def yaml_file(*entries: str, version: str = "1") -> str:
    """A YAML catalogue whose entries are the given flow mappings, one per line from line 3."""
    return f"version: {version}\nentries:\n" + "".join(f"  - {e}\n" for e in entries)


A = "http://example.com/a"
GOOD = f"{{kind: activity, value: {A}}}"

# (filename, text, the problems expected, in order)
BAD_FILES: list[tuple[str, str, str, list[str]]] = [
    ("bad kind", "catalogue.yaml", yaml_file(GOOD, "{kind: exact, value: http://e.org/b}"), [
        "catalogue.yaml line 4, entries[1].kind: 'exact' is not one of "
        "['activity', 'prefix', 'type'] (entry value 'http://e.org/b')"]),
    ("missing value", "catalogue.yaml", yaml_file(GOOD, GOOD.replace("activity", "type"),
                                                  "{kind: prefix, name: Mandatory}"), [
        "catalogue.yaml line 5, entries[2]: 'value' is a required property"]),
    ("no scheme", "catalogue.yaml", yaml_file("{kind: activity, value: example.com/a}"), [
        "catalogue.yaml line 3, entries[0].value: 'example.com/a' is not an absolute IRI: "
        "it needs a scheme such as https:"]),
    ("space in value", "catalogue.yaml", yaml_file("{kind: type, value: 'http://e.org/a b'}"), [
        "catalogue.yaml line 3, entries[0].value: 'http://e.org/a b' is not an absolute IRI: "
        "it contains whitespace, a control character or one of <>\"{}|\\^`"]),
    ("scheme only", "catalogue.yaml", yaml_file("{kind: prefix, value: 'https:'}"), [
        "catalogue.yaml line 3, entries[0].value: 'https:' is not an absolute IRI: "
        "there is nothing after the scheme"]),
    ("duplicate", "catalogue.yaml", yaml_file(GOOD, GOOD.replace("activity", "prefix"), GOOD), [
        f"catalogue.yaml line 5, entries[2]: duplicates entries[0] (activity '{A}')"]),
    ("wrong version", "catalogue.yaml", yaml_file(GOOD, version="2"), [
        "catalogue.yaml line 1, version: 2 is not supported (expected 1)"]),
    ("unknown key", "catalogue.yaml", yaml_file(GOOD) + f"  - kind: activity\n"
                                      f"    value: {A}/2\n    retention: 30\n", [
        "catalogue.yaml line 6, entries[1].retention: Additional properties are not allowed "
        f"('retention' was unexpected) (entry value '{A}/2')"]),
    ("bad retention", "catalogue.yaml", yaml_file(f"{{kind: activity, value: {A}, "
                                                  "retention_days: '30'}"), [
        f"catalogue.yaml line 3, entries[0].retention_days: '30' is not of type 'integer', "
        f"'null' (entry value '{A}')"]),
    ("missing entries", "catalogue.yaml", "version: 1\nentry: []\n", [
        "catalogue.yaml line 1, document: 'entries' is a required property",
        "catalogue.yaml line 2, entry: Additional properties are not allowed "
        "('entry' was unexpected)"]),
    ("not a mapping", "catalogue.yaml", "just some words\n", [
        "catalogue.yaml line 1, document: 'just some words' is not of type 'object'"]),
    ("empty", "catalogue.yml", "# nothing yet\n", ["catalogue.yml: the file is empty"]),
    ("not yaml", "catalogue.yaml", "version: 1\nentries: [\n", [
        "catalogue.yaml line 3: not valid YAML: ..."]),
    ("not json", "catalogue.json", '{"version": 1,\n "entries": [}\n', [
        "catalogue.json line 2: not valid JSON: Expecting value (column 14)"]),
    ("neither", "catalogue.txt", "{{ :", [
        "catalogue.txt line 1: not valid JSON: Expecting property name enclosed in double "
        "quotes (column 2)",
        "catalogue.txt line 1: not valid YAML: ..."]),
    ("json, several problems", "catalogue.json", textwrap.dedent("""\
        {
          "version": 1,
          "entries": [
            {"kind": "activity", "value": "http://e.org/a"},
            {
              "kind": "exact",
              "value": "http://e.org/b"
            },
            {"kind": "activity",
             "value": "http://e.org/a"},
            "http://e.org/c"
          ]
        }"""), [
        "catalogue.json line 6, entries[1].kind: 'exact' is not one of "
        "['activity', 'prefix', 'type'] (entry value 'http://e.org/b')",
        "catalogue.json line 9, entries[2]: duplicates entries[0] (activity 'http://e.org/a')",
        "catalogue.json line 11, entries[3]: 'http://e.org/c' is not of type 'object'"]),
]


@pytest.mark.parametrize(("filename", "text", "expected"),
                         [(f, t, e) for _, f, t, e in BAD_FILES],
                         ids=[case for case, _, _, _ in BAD_FILES])
def test_load_catalogue_names_entry_and_line_when_invalid(filename: str, text: str,
                                                          expected: list[str]) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(text, filename=filename)
    # The YAML parser's own wording differs with and without libyaml: "..." stands for it.
    assert [p.partition("YAML: ")[0] + "YAML: ..." if "not valid YAML" in p else p
            for p in caught.value.problems] == expected


def test_load_catalogue_collects_every_problem_when_many() -> None:
    text = yaml_file(*[f"{{kind: exact, value: http://e.org/{i}}}" for i in range(50)])
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(text, filename="big.yaml")
    assert len(caught.value.problems) == 50
    assert caught.value.problems[-1].startswith("big.yaml line 52, entries[49].kind:")
