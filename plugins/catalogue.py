"""The compliance catalogue (DESIGN §3, rule 1): mandatory activities whose statements are kept."""

from __future__ import annotations

import dataclasses
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import Any, Final, Literal, get_args

from statements.completion import DEFAULT_RULE, PERIOD_FORMAT, CompletionRule, Period, parse_period
from statements.datatypes import is_iri

EntryKind = Literal["activity", "prefix", "type"]
KINDS: Final[tuple[str, ...]] = get_args(EntryKind)
FORMAT_VERSION: Final = 1

# The file format of `lrs catalogue load` and of the admin API. IRI syntax and duplicates
# are checked in Python (`_semantic_problems`) so there is one definition of each.
CATALOGUE_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Compliance catalogue",
    "description": "Mandatory activities whose statements the LRS keeps in full.",
    "type": "object",
    "required": ["version", "entries"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": FORMAT_VERSION},
        "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
    },
    "$defs": {
        "entry": {
            "type": "object",
            "required": ["kind", "value"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": list(KINDS), "description":
                         "activity: exact activity id; prefix: activity id prefix; "
                         "type: activity definition type"},
                "value": {"type": "string", "description": "An absolute IRI (or IRI prefix)."},
                "name": {"type": ["string", "null"]},
                "retention_days": {"type": ["integer", "null"], "minimum": 1},
                "completion": {"$ref": "#/$defs/completion"},
                "valid_for": {"type": ["string", "null"], "description":
                              "How long a completion stays valid: " + PERIOD_FORMAT},
                "warn_before": {"type": ["string", "null"], "description":
                                "A completion is `expiring` this long before it expires "
                                "(default: LRS_COMPLIANCE_EXPIRING_WITHIN)"},
            },
        },
        "completion": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "description": "When a statement shows the activity completed; absent: the "
                           "default rule (docs/compliance.md)",
            "properties": {
                "verbs": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                          "uniqueItems": True},
                "success_required": {"type": "boolean"},
                "min_score": {"type": "number", "minimum": -1, "maximum": 1},
            },
        },
    },
}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CatalogueEntry:
    """One catalogue rule; an entry is known by (kind, value)."""

    kind: EntryKind
    value: str
    name: str | None = None
    retention_days: int | None = None  # carried for the purge feature; not used here
    completion: CompletionRule = DEFAULT_RULE
    valid_for: Period | None = None  # recertification: a completion expires after this
    warn_before: Period | None = None  # `expiring` this long before; None: the setting

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"catalogue entry kind {self.kind!r} is not one of {list(KINDS)}")


class Catalogue:
    """An immutable, indexed set of entries: exact ids and types in dicts, prefixes in a
    sorted list searched with bisect, so a lookup is O(log n) for thousands of entries."""

    __slots__ = ("_activities", "_entries", "_parent", "_prefix_entries", "_prefixes", "_types")

    def __init__(self, entries: Iterable[CatalogueEntry] = ()) -> None:
        by_kind: dict[str, dict[str, CatalogueEntry]] = {kind: {} for kind in KINDS}
        for entry in entries:
            by_kind[entry.kind][entry.value] = entry
        self._activities = by_kind["activity"]
        self._types = by_kind["type"]
        self._prefixes = sorted(by_kind["prefix"])
        self._prefix_entries = [by_kind["prefix"][p] for p in self._prefixes]
        # _parent[i]: index of the longest other prefix that is a prefix of _prefixes[i].
        # In sorted order the prefixes of the current one form a stack.
        self._parent: list[int] = []
        stack: list[int] = []
        for i, prefix in enumerate(self._prefixes):
            while stack and not prefix.startswith(self._prefixes[stack[-1]]):
                stack.pop()
            self._parent.append(stack[-1] if stack else -1)
            stack.append(i)
        self._entries = (*self._activities.values(), *self._prefix_entries,
                         *self._types.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} entries)"

    def matches(self, statement: Mapping[str, Any]) -> CatalogueEntry | None:
        """The entry that makes `statement` (validated xAPI) mandatory, or None (DESIGN §3
        rule 1). Looked at, in this order: the object when it is an Activity (objectType
        absent or "Activity"), then `context.contextActivities.parent`, then `.grouping`
        (each one Activity or a list). Category and other activities do not count, nor does
        the inside of a SubStatement object (it describes a statement, not an experience;
        a statement about one is still caught by its own parent/grouping)."""
        if not self._entries:
            return None
        target = statement.get("object")
        # Data §2.4.4: objectType absent means Activity.
        if isinstance(target, Mapping) and target.get("objectType", "Activity") == "Activity":
            found = self.match_activity(target)
            if found is not None:
                return found
        context = statement.get("context")
        related = context.get("contextActivities") if isinstance(context, Mapping) else None
        if isinstance(related, Mapping):
            for key in ("parent", "grouping"):
                for activity in _as_list(related.get(key)):
                    found = self.match_activity(activity)
                    if found is not None:
                        return found
        return None

    def match_activity(self, activity: Any) -> CatalogueEntry | None:
        """The entry matching one Activity object: its exact id first, then the longest
        prefix of its id, then its `definition.type`. IRIs are compared as plain strings
        (no case folding), as xAPI compares them."""
        if not isinstance(activity, Mapping):
            return None
        activity_id = activity.get("id")
        if isinstance(activity_id, str):
            found = self._activities.get(activity_id) or self._longest_prefix(activity_id)
            if found is not None:
                return found
        definition = activity.get("definition")
        if self._types and isinstance(definition, Mapping):
            activity_type = definition.get("type")
            if isinstance(activity_type, str):
                return self._types.get(activity_type)
        return None

    def _longest_prefix(self, iri: str) -> CatalogueEntry | None:
        # Every catalogued prefix of `iri` is a prefix of the largest entry <= iri, so it is
        # that entry or one of its ancestors; walk up until one fits.
        i = bisect_right(self._prefixes, iri) - 1
        while i >= 0:
            if iri.startswith(self._prefixes[i]):
                return self._prefix_entries[i]
            i = self._parent[i]
        return None


def _as_list(value: Any) -> list[Any]:
    # Data §2.4.6.2: each contextActivities value is one Activity or an array of them.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; `problems` says what is wrong and where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_catalogue(text: str, *, filename: str) -> list[CatalogueEntry]:
    """Parse and check a catalogue file (`{"version": 1, "entries": [...]}`).

    `filename` picks the syntax (`.json`; `.yaml`/`.yml`; anything else: JSON, then YAML)
    and prefixes every message. Every problem is collected before raising: schema errors
    (`CATALOGUE_SCHEMA`), values that are not absolute IRIs, and duplicate (kind, value)
    pairs. Raises CatalogueError with messages such as
    `catalogue.yaml line 12, entries[3].kind: 'exact' is not one of [...]`.
    """
    text = text.removeprefix("\ufeff")
    data, locate = _parse(text, filename)
    found = [(_schema_path(e), _schema_message(e)) for e in _validator().iter_errors(data)]
    found += _semantic_problems(data)
    if found:
        lines = locate()
        problems = sorted((_line_of(lines, path), _describe(data, path, message))
                          for path, message in found)
        raise CatalogueError([f"{filename}{f' line {line}' if line else ''}, {what}"
                              for line, what in problems])
    return [entry_of(raw) for raw in data["entries"]]


def entry_of(raw: Mapping[str, Any]) -> CatalogueEntry:
    """One (checked) entry of a catalogue file; stores keep the same fields."""
    return CatalogueEntry(kind=raw["kind"], value=raw["value"], name=raw.get("name"),
                          retention_days=_int_or_none(raw.get("retention_days")),
                          completion=CompletionRule.from_json(raw.get("completion")),
                          valid_for=parse_period(raw.get("valid_for")),
                          warn_before=parse_period(raw.get("warn_before")))


def entry_json(entry: CatalogueEntry) -> dict[str, Any]:
    """One entry as the catalogue file writes it (fields at their default left out)."""
    raw: dict[str, Any] = {"kind": entry.kind, "value": entry.value}
    if entry.name is not None:
        raw["name"] = entry.name
    if entry.retention_days is not None:
        raw["retention_days"] = entry.retention_days
    if not entry.completion.is_default:
        raw["completion"] = entry.completion.to_json()
    if entry.valid_for is not None:
        raw["valid_for"] = str(entry.valid_for)
    if entry.warn_before is not None:
        raw["warn_before"] = str(entry.warn_before)
    return raw


_RULE_KEYS: Final = ("completion", "valid_for", "warn_before")


def rules_json(entry: CatalogueEntry) -> dict[str, Any]:
    """The entry's completion rule and validity as stores keep them ({} for the defaults)."""
    raw = entry_json(entry)
    return {key: raw[key] for key in _RULE_KEYS if key in raw}


def with_rules(entry: CatalogueEntry, rules: Mapping[str, Any] | None) -> CatalogueEntry:
    """`entry` with the rules a store kept (rules_json); None or {}: the defaults."""
    if not rules:
        return entry
    return dataclasses.replace(
        entry, completion=CompletionRule.from_json(rules.get("completion")),
        valid_for=parse_period(rules.get("valid_for")),
        warn_before=parse_period(rules.get("warn_before")))


def dump_catalogue(entries: Iterable[CatalogueEntry]) -> str:
    """The entries as a JSON catalogue file, in order; `load_catalogue` reads it back."""
    out = [entry_json(entry) for entry in entries]
    return json.dumps({"version": FORMAT_VERSION, "entries": out}, indent=2, ensure_ascii=False)


@cache
def _validator() -> Any:
    # Imported here: only loading a catalogue needs it, not the ingest path. No stubs
    # (types-jsonschema) are installed, hence Any.
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(CATALOGUE_SCHEMA)


def _import_yaml(filename: str) -> Any:
    try:
        import yaml
    except ImportError:  # installed with the LRS; kept lazy so JSON-only use needs nothing
        raise CatalogueError([f"{filename}: reading YAML needs PyYAML (pip install PyYAML), "
                              "or give the catalogue as JSON"]) from None
    return yaml


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)  # 2020-12 counts 365.0 as an integer


# The parsed document, and how to find the line of each of its parts (only needed, so only
# worked out, when something is wrong).
Parsed = tuple[Any, Callable[[], dict[Path, int]]]


def _parse(text: str, filename: str) -> Parsed:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".json":
        return _parse_json(text, filename)
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(text, filename)
    try:
        return _parse_json(text, filename)
    except CatalogueError as not_json:
        try:
            return _parse_yaml(text, filename)
        except CatalogueError as not_yaml:
            raise CatalogueError(not_json.problems + not_yaml.problems) from None


def _parse_json(text: str, filename: str) -> Parsed:
    try:
        return json.loads(text), lambda: _json_lines(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError([f"{filename} line {exc.lineno}: not valid JSON: {exc.msg} "
                              f"(column {exc.colno})"]) from None


def _parse_yaml(text: str, filename: str) -> Parsed:
    yaml = _import_yaml(filename)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when built with it
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError([f"{filename}{where}: not valid YAML: {problem}"]) from None
    finally:
        loader.dispose()
    if data is None:
        raise CatalogueError([f"{filename}: the file is empty"])
    return data, lambda: _yaml_lines(node, yaml)


def _schema_path(error: Any) -> Path:
    path: Path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":  # point at the first unexpected key
        allowed = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in allowed]
        if extra and isinstance(extra[0], str):
            path = (*path, extra[0])
    return path


def _schema_message(error: Any) -> str:
    if error.validator == "const":
        return f"{error.instance!r} is not supported (expected {error.validator_value!r})"
    return str(error.message)


def _semantic_problems(data: Any) -> list[tuple[Path, str]]:
    """IRI syntax and duplicates, for every entry whose kind and value are usable."""
    raw_entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(raw_entries, list):
        return []
    problems: list[tuple[Path, str]] = []
    first_seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(raw_entries):
        value = raw.get("value") if isinstance(raw, dict) else None
        if not isinstance(value, str):
            continue
        if not is_iri(value):
            problems.append((("entries", i, "value"), f"{value!r} {_iri_problem(value)}"))
        problems += _rule_problems(raw, i)
        kind = raw.get("kind")
        if isinstance(kind, str):
            first = first_seen.setdefault((kind, value), i)
            if first != i:
                problems.append((("entries", i),
                                 f"duplicates entries[{first}] ({kind} {value!r})"))
    return problems


def _rule_problems(raw: dict[str, Any], i: int) -> list[tuple[Path, str]]:
    """Periods that do not parse, verbs that are not IRIs, a warning without a period."""
    problems: list[tuple[Path, str]] = []
    for key in ("valid_for", "warn_before"):
        text = raw.get(key)
        if isinstance(text, str):
            try:
                Period.parse(text)
            except ValueError as exc:
                problems.append((("entries", i, key), str(exc)))
    if raw.get("warn_before") is not None and raw.get("valid_for") is None:
        problems.append((("entries", i, "warn_before"),
                         "only means something with valid_for (how long a completion lasts)"))
    rule = raw.get("completion")
    verbs = rule.get("verbs") if isinstance(rule, dict) else None
    for j, verb in enumerate(verbs if isinstance(verbs, list) else []):
        if isinstance(verb, str) and not is_iri(verb):
            problems.append((("entries", i, "completion", "verbs", j),
                             f"{verb!r} {_iri_problem(verb)}"))
    return problems


def _iri_problem(value: str) -> str:
    # Same rule as statement validation (Data §4.1): an activity id that is not an IRI could
    # never arrive, so such an entry could never match.
    if not _SCHEME.match(value):
        return "is not an absolute IRI: it needs a scheme such as https:"
    if _SCHEME.fullmatch(value):
        return "is not an absolute IRI: there is nothing after the scheme"
    return ("is not an absolute IRI: it contains whitespace, a control character or one of "
            "<>\"{}|\\^`")


def _describe(data: Any, path: Path, message: str) -> str:
    """`entries[3].kind: <message>`, naming the entry's value when the message does not."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    text = f"{where or 'document'}: {message}"
    if len(path) >= 2 and path[0] == "entries" and isinstance(path[1], int):
        raw = data["entries"][path[1]]
        value = raw.get("value") if isinstance(raw, dict) else None
        if isinstance(value, str) and repr(value) not in message:
            text += f" (entry value {value!r})"
    return text


def _line_of(lines: Mapping[Path, int], path: Path) -> int:
    """The line of the deepest part of `path` that was found; 0 when none was."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 0


def _json_lines(text: str) -> dict[Path, int]:
    """Line of every value in a JSON document, by path (only called once it parsed)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    newlines = [match.start() for match in re.finditer("\n", text)]
    lines: dict[Path, int] = {}

    def skip(i: int) -> int:
        match = space.match(text, i)
        return match.end() if match else i

    def value(i: int, path: Path) -> int:
        i = skip(i)
        lines[path] = bisect_right(newlines, i) + 1
        opening = text[i]
        if opening not in "{[":
            return decoder.raw_decode(text, i)[1]
        closing, i, index = ("}" if opening == "{" else "]"), skip(i + 1), 0
        while text[i] != closing:
            if opening == "{":
                key, i = decoder.raw_decode(text, i)
                i = value(skip(i) + 1, (*path, key))  # skip the colon
            else:
                i = value(i, (*path, index))
                index += 1
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return i + 1

    value(0, ())
    return lines


def _yaml_lines(root: Any, yaml: Any) -> dict[Path, int]:
    """Line of every node of a composed YAML document, by path."""
    lines: dict[Path, int] = {}

    def walk(node: Any, path: Path) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, child in node.value:
                if isinstance(key, yaml.ScalarNode):  # a list as a key is reported elsewhere
                    walk(child, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                walk(child, (*path, index))

    walk(root, ())
    return lines

