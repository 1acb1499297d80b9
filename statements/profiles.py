"""xAPI Profiles: read a profile's statement templates and check statements against them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpath
import jsonschema
from jsonpath import CompoundJSONPath, JSONPath
from jsonpath.segments import JSONPathChildSegment
from jsonpath.selectors import IndexSelector, NameSelector, WildcardSelector

# Profiles Part Two §7.2: where each kind of extension concept sits in a statement.
_EXTENSION_PLACES = {
    "ContextExtension": ("context", "extensions"),
    "ResultExtension": ("result", "extensions"),
    "ActivityExtension": ("object", "definition", "extensions"),
}
# Part Two §9: the determining properties that name context activity types.
_CONTEXT_KINDS = {
    "contextGroupingActivityType": "grouping",
    "contextParentActivityType": "parent",
    "contextOtherActivityType": "other",
    "contextCategoryActivityType": "category",
}
_PRESENCES = frozenset({"included", "excluded", "recommended"})


class ProfileError(ValueError):
    """A profile document that cannot be used (not a profile, or a rule that cannot run)."""


@dataclass(frozen=True)
class Rule:
    """One Statement Template rule (Profiles Part Two §9.1)."""

    index: int
    location: str
    path: Location
    selector: Location | None = None
    presence: str | None = None
    any: tuple[Any, ...] | None = None
    all: tuple[Any, ...] | None = None
    none: tuple[Any, ...] | None = None

    def describe(self) -> str:
        """How a finding names this rule: its number in the template and its location."""
        return f"rules[{self.index}] ({self.location})"


@dataclass(frozen=True)
class Template:
    """A Statement Template: its determining properties and its rules."""

    id: str
    label: str
    verb: str | None = None
    object_activity_type: str | None = None
    context_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    attachment_usage_types: frozenset[str] = frozenset()
    object_statement_ref: bool = False
    context_statement_ref: bool = False
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class ExtensionSchema:
    """An extension concept whose values a JSON Schema constrains (Part Two §7.2)."""

    id: str
    place: tuple[str, ...]
    validator: jsonschema.protocols.Validator


@dataclass(frozen=True)
class Profile:
    """What the door needs of one xAPI Profile."""

    id: str
    label: str
    templates: tuple[Template, ...]
    extensions: tuple[ExtensionSchema, ...] = ()
    # The profile's IRI, its versions' and those they revise: what a statement puts in its
    # category context activities to say it follows the profile (Part Two §5).
    names: frozenset[str] = frozenset()

    @property
    def extensions_by_place(self) -> tuple[tuple[tuple[str, ...], dict[str, ExtensionSchema]],
                                           ...]:
        """The extension schemas grouped by where they sit, computed once."""
        cached = self.__dict__.get("_by_place")
        if cached is None:
            grouped: dict[tuple[str, ...], dict[str, ExtensionSchema]] = {}
            for extension in self.extensions:
                grouped.setdefault(extension.place, {})[extension.id] = extension
            cached = tuple(grouped.items())
            object.__setattr__(self, "_by_place", cached)
        by_place: tuple[tuple[tuple[str, ...], dict[str, ExtensionSchema]], ...] = cached
        return by_place


@dataclass(frozen=True)
class Finding:
    """One rule a statement breaks: which profile, template and rule, and where."""

    profile: str
    template: str
    rule: str
    path: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """The templates a statement matched (profile id, template id) and what it breaks."""

    matched: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]


def parse_profile(document: Mapping[str, Any],
                  schemas: Mapping[str, Any] | None = None) -> Profile:
    """Read a profile's JSON-LD document (compacted, as published; no JSON-LD processing is
    needed, Part Two §2). `schemas` holds the documents of extension `schema` IRIs that the
    caller fetched; an extension whose schema is not among them is not checked."""
    if not isinstance(document, Mapping) or document.get("type") != "Profile" \
            or not isinstance(document.get("id"), str):
        raise ProfileError("not an xAPI Profile: no `type: Profile` and string `id`")
    profile_id = document["id"]
    templates = tuple(_template(t, profile_id) for t in document.get("templates", ()))
    extensions = []
    for concept in document.get("concepts", ()):
        place = _EXTENSION_PLACES.get(concept.get("type", ""))
        if place is None:
            continue
        schema = _schema_of(concept, schemas or {})
        if schema is not None:
            cls = jsonschema.validators.validator_for(schema)
            try:
                cls.check_schema(schema)
            except jsonschema.SchemaError as error:
                raise ProfileError(f"{concept.get('id')}: its schema is not valid JSON Schema:"
                                   f" {error.message}") from error
            extensions.append(ExtensionSchema(concept["id"], place, cls(
                schema, format_checker=cls.FORMAT_CHECKER)))
    names = {profile_id}
    for version in document.get("versions", ()):
        names.add(version.get("id", profile_id))
        names.update(version.get("wasRevisionOf", ()))
    return Profile(profile_id, _label(document, profile_id), templates, tuple(extensions),
                   frozenset(names))


def check(statement: Mapping[str, Any], profiles: Iterable[Profile], *,
          require_category: bool = True) -> Outcome:
    """Profiles Part Three §2.1 `validates`, for every profile: the templates whose
    determining properties the statement has, and every rule of theirs it breaks; for a
    profile with a matched template, also extension values against their schemas.

    With `require_category`, a profile applies only to statements that name it (or one of
    its versions) in their category context activities, as Part Two §8 says; without, to
    every statement, as the Part Three algorithm alone would."""
    matched: list[tuple[str, str]] = []
    findings: list[Finding] = []
    categories = _category_ids(statement) if require_category else set()
    for profile in profiles:
        if require_category and not profile.names & categories:
            continue
        first: str | None = None
        for template in profile.templates:
            if not _determined(statement, template):
                continue
            first = first or template.id
            matched.append((profile.id, template.id))
            findings.extend(_follows(statement, profile, template))
        if first is not None:
            findings.extend(_extensions(statement, profile, first))
    return Outcome(tuple(matched), tuple(findings))


def _template(raw: Mapping[str, Any], profile_id: str) -> Template:
    template_id = raw.get("id")
    if not isinstance(template_id, str):
        raise ProfileError(f"{profile_id}: a statement template without a string `id`")
    rules = tuple(_rule(r, i, template_id) for i, r in enumerate(raw.get("rules", ())))
    return Template(
        template_id, _label(raw, template_id), raw.get("verb"), raw.get("objectActivityType"),
        {kind: frozenset(raw[key]) for key, kind in _CONTEXT_KINDS.items() if raw.get(key)},
        frozenset(raw.get("attachmentUsageType", ())),
        bool(raw.get("objectStatementRefTemplate")),
        bool(raw.get("contextStatementRefTemplate")), rules)


def _rule(raw: Mapping[str, Any], index: int, template_id: str) -> Rule:
    where = f"{template_id} rules[{index}]"
    location = raw.get("location")
    if not isinstance(location, str):
        raise ProfileError(f"{where}: no string `location`")
    presence = raw.get("presence")
    if presence is not None and presence not in _PRESENCES:
        raise ProfileError(f"{where}: presence {presence!r} is not one of {sorted(_PRESENCES)}")
    # Part Two §9.1: a rule has one or more of presence, any, all, none.
    if presence is None and not any(k in raw for k in ("any", "all", "none")):
        raise ProfileError(f"{where}: none of presence, any, all, none")
    selector = raw.get("selector")
    return Rule(index, location, _compile(location, where),
                _compile(selector, where) if isinstance(selector, str) else None, presence,
                *(tuple(raw[k]) if k in raw else None for k in ("any", "all", "none")))


def _compile(path: str, where: str) -> Location:
    # Part Two §9.1: Goessner JSONPath without filters or scripts; `|` joins several paths.
    try:
        query = jsonpath.compile(path if path.lstrip().startswith("$") else f"$.{path}")
    except jsonpath.JSONPathError as error:
        raise ProfileError(f"{where}: {path!r} is not a JSONPath: {error}") from error
    return Location(query, _steps(query))


_ANY = object()  # a `[*]` step
Step = str | int | object


def _steps(query: JSONPath | CompoundJSONPath) -> tuple[Step, ...] | None:
    """The steps of a path made only of names, indexes and `[*]` (what profiles use), as
    the library parsed them; None for any other path, which the library then evaluates."""
    if not isinstance(query, JSONPath):
        return None
    steps: list[Step] = []
    for segment in query.segments:
        if type(segment) is not JSONPathChildSegment or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if isinstance(selector, NameSelector):
            steps.append(selector.name)
        elif isinstance(selector, IndexSelector) and selector.index >= 0:
            steps.append(selector.index)
        elif isinstance(selector, WildcardSelector):
            steps.append(_ANY)
        else:
            return None
    return tuple(steps)


@dataclass(frozen=True)
class Location:
    """A compiled JSONPath. Paths of names, indexes and `[*]` are walked directly (the
    library takes 15-25 µs an evaluation, and a profile has a dozen rules per template);
    any other is evaluated by the library. Paths found are in the library's normalized form
    (`$['result']['success']`)."""

    query: JSONPath | CompoundJSONPath
    steps: tuple[Step, ...] | None

    def find(self, data: Any) -> list[tuple[str, Any]]:
        """The (normalized path, value) pairs the path finds in `data`, in document order."""
        if self.steps is None:
            return [(m.path, m.obj) for m in self.query.finditer(data)]
        found: list[tuple[str, Any]] = [("$", data)]
        for step, written in zip(self.steps, self._written, strict=True):
            nodes, found = found, []
            for path, node in nodes:
                if step is _ANY:
                    if isinstance(node, list):
                        found.extend((f"{path}[{i}]", v) for i, v in enumerate(node))
                    elif isinstance(node, dict):
                        found.extend((f"{path}[{_quoted(k)}]", v) for k, v in node.items())
                elif isinstance(step, int):
                    if isinstance(node, list) and step < len(node):
                        found.append((path + written, node[step]))
                elif isinstance(node, dict) and step in node:
                    found.append((path + written, node[step]))
            if not found:
                break
        return found

    @property
    def _written(self) -> tuple[str, ...]:
        # Each step as a normalized path writes it, computed once per location.
        cached: tuple[str, ...] | None = self.__dict__.get("_written_steps")
        if cached is None:
            cached = tuple("" if s is _ANY else f"[{s}]" if isinstance(s, int)
                           else f"[{_quoted(s)}]" for s in self.steps or ())
            object.__setattr__(self, "_written_steps", cached)
        return cached


def _quoted(name: Any) -> str:
    """A name as the library's normalized paths write it (RFC 9535 §2.7)."""
    return "'" + str(name).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _schema_of(concept: Mapping[str, Any], schemas: Mapping[str, Any]) -> Any:
    if isinstance(concept.get("inlineSchema"), str):
        try:
            return json.loads(concept["inlineSchema"])
        except ValueError as error:
            raise ProfileError(f"{concept.get('id')}: its inlineSchema is not JSON") from error
    return schemas.get(concept.get("schema", ""))


def _label(raw: Mapping[str, Any], fallback: str) -> str:
    labels = raw.get("prefLabel") or {}
    return str(labels.get("en") or next(iter(labels.values()), fallback))


def _category_ids(statement: Mapping[str, Any]) -> set[str]:
    found = statement.get("context", {}).get("contextActivities", {}).get("category", [])
    return {a.get("id") for a in (found if isinstance(found, list) else [found])} - {None}


def _context_types(statement: Mapping[str, Any], kind: str) -> set[str]:
    found = statement.get("context", {}).get("contextActivities", {}).get(kind, [])
    # Data §2.4.6.2: a single activity counts as an array of one.
    return {a.get("definition", {}).get("type") for a in
            (found if isinstance(found, list) else [found])} - {None}


def _determined(statement: Mapping[str, Any], template: Template) -> bool:
    """Part Three §2.1 `matches_determining_properties`."""
    if template.verb is not None and statement["verb"]["id"] != template.verb:
        return False
    obj = statement["object"]
    if template.object_activity_type is not None and (
            obj.get("objectType", "Activity") != "Activity"
            or obj.get("definition", {}).get("type") != template.object_activity_type):
        return False
    for kind, wanted in template.context_types.items():
        if not wanted <= _context_types(statement, kind):
            return False
    if template.attachment_usage_types:
        usage = {a.get("usageType") for a in statement.get("attachments", ())}
        if not template.attachment_usage_types <= usage:
            return False
    return True


_UNMATCHABLE = object()


def _follows(statement: Mapping[str, Any], profile: Profile, template: Template
             ) -> list[Finding]:
    """Part Three §2.1 `follows_rules`: one finding per rule broken."""
    def finding(rule: str, path: str, message: str) -> Finding:
        return Finding(profile.id, template.id, rule, path, message)

    out = []
    # A referenced statement is not looked up at the door: only its being a StatementRef.
    if template.object_statement_ref and statement["object"].get("objectType") != \
            "StatementRef":
        out.append(finding("objectStatementRefTemplate", "$.object.objectType",
                           "the object must be a StatementRef"))
    if template.context_statement_ref and \
            statement.get("context", {}).get("statement", {}).get("objectType") != \
            "StatementRef":
        out.append(finding("contextStatementRefTemplate", "$.context.statement",
                           "context.statement must be a StatementRef"))
    for rule in template.rules:
        broken = _broken(statement, rule)
        if broken is not None:
            out.append(finding(rule.describe(), *broken))
    return out


def _values(statement: Mapping[str, Any], rule: Rule) -> list[tuple[str, Any]]:
    """The (path, value) pairs a rule looks at; an unmatchable one where a selector finds
    nothing in a located value."""
    located = rule.path.find(statement)
    if rule.selector is None:
        return located
    out: list[tuple[str, Any]] = []
    for path, value in located:
        selected = [(path + p[1:], v) for p, v in rule.selector.find(value)] \
            if isinstance(value, dict | list) else []
        out.extend(selected or [(path, _UNMATCHABLE)])
    return out


def _broken(statement: Mapping[str, Any], rule: Rule) -> tuple[str, str] | None:
    """Part Three §2.1 `follows_rule`: None, or where and how the rule is broken."""
    found = _values(statement, rule)
    matchable = [(p, v) for p, v in found if v is not _UNMATCHABLE]
    unmatchable = [p for p, v in found if v is _UNMATCHABLE]
    where = rule.location
    if rule.presence == "included":
        if unmatchable:
            return unmatchable[0], "must be included: the selector finds nothing here"
        if not found:
            return where, "must be included"
    if rule.presence == "excluded" and matchable:
        return matchable[0][0], "must be excluded"
    # `recommended`: any/all/none apply only where something was found.
    strict = rule.presence != "recommended"
    if not (strict or found):
        return None
    if rule.any is not None and not any(_in(v, rule.any) for _, v in matchable):
        path = matchable[0][0] if matchable else where
        return path, f"must hold one of {_show(rule.any)}"
    if rule.all is not None:
        if unmatchable:
            return unmatchable[0], "the selector finds nothing here; `all` needs a value"
        for path, value in matchable:
            if not _in(value, rule.all):
                return path, f"{_show([value])} is not one of {_show(rule.all)}"
    if rule.none is not None:
        for path, value in matchable:
            if _in(value, rule.none):
                return path, f"must not be {_show([value])}"
    return None


def _extensions(statement: Mapping[str, Any], profile: Profile, template: str
                ) -> list[Finding]:
    out = []
    for place, schemas in profile.extensions_by_place:
        holder: Any = statement
        for key in place:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            continue
        for key in holder.keys() & schemas.keys():
            extension, value = schemas[key], holder[key]
            if extension.validator.is_valid(value):
                continue
            error = jsonschema.exceptions.best_match(extension.validator.iter_errors(value))
            if error is None:
                continue
            path = "$." + ".".join(place) + f"['{key}']" + "".join(
                f"[{p}]" if isinstance(p, int) else f"['{p}']" for p in error.absolute_path)
            out.append(Finding(profile.id, template, f"schema of {key}", path, error.message))
    return sorted(out, key=lambda f: f.path)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, objects and arrays compared member-wise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b)


def _in(value: Any, allowed: Iterable[Any]) -> bool:
    return any(_same(value, one) for one in allowed)


def _show(values: Iterable[Any]) -> str:
    return ", ".join(json.dumps(v) for v in values)
