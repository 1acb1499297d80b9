"""The fast path of validation: the statement schema with its Python checks made native.

`models.Statement` checks a dozen things in Python (language tags, timestamps, durations,
which member of a union applies, interaction properties); each is a call from
pydantic-core back into the interpreter. This module derives a second schema from the
pydantic-core schema of the same models, in which each such check is replaced by a native
check that accepts a *subset* of what the Python check accepts (a pattern, a union of
TypedDicts). So a statement the fast schema accepts is accepted by the full one with the
same result, and everything else (invalid statements, and rarer valid forms such as a
timestamp on 29 February or a language tag with an extension) is decided by the full
schema, which alone words the errors. tests/statements/test_fastpath.py holds the two to
agreement on generated statements.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, get_args

from pydantic_core import SchemaValidator

from statements import models
from statements.datatypes import _LANGTAG, Duration, LanguageTag, Timestamp

_DIGIT = "[0-9]"  # `\d` is any Unicode digit, in a Unicode version that may differ by engine
# A date that exists in every year (the 29th of February is left to the full check), years
# 1000-8999 so that no UTC offset can carry it out of the range of `datetime`.
_DATE = (
    "[1-8][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_HOUR, _MINUTE = "(?:[01][0-9]|2[0-3])", "[0-5][0-9]"
# Z, or an offset other than the forbidden -00:00 (datatypes.parse_timestamp).
_ZONE = f"(?:Z|\\+{_HOUR}:{_MINUTE}|-(?:0[1-9]|1[0-9]|2[0-3]):{_MINUTE}|-00:(?:0[1-9]|[1-5][0-9]))"
TIMESTAMP_SUBSET = f"^{_DATE}T{_HOUR}:{_MINUTE}:{_MINUTE}(?:\\.[0-9]{{1,9}})?{_ZONE}$"
# Days, then hours, minutes and seconds (the last may carry a fraction): the usual forms.
_N = "[0-9]+"
DURATION_SUBSET = (
    f"^P(?:{_N}D)?T(?:{_N}H)?(?:{_N}M)?{_N}(?:\\.{_N})?S$|^P(?:{_N}D)?T(?:{_N}H)?{_N}M$"
    f"|^P(?:{_N}D)?T{_N}H$|^P{_N}D$"
)
# A tag without extensions, so that no singleton can repeat (RFC 5646 §2.2.6).
_EXTENSIONS = r"(?P<ext>(?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*)"
LANGUAGE_TAG_SUBSET = "(?x)" + _LANGTAG.pattern.replace(_EXTENSIONS, "").replace(r"\d", _DIGIT)
VERSION_SUBSET = "^[12]\\.0(?:\\.[0-9]+)?$"

# Each Python check (an AfterValidator's function) and the native pattern standing for it.
_NATIVE: dict[Any, str] = {
    get_args(LanguageTag)[1].func: LANGUAGE_TAG_SUBSET,
    get_args(Duration)[1].func: DURATION_SUBSET,
    get_args(Timestamp)[1].func: TIMESTAMP_SUBSET,
    models._version: VERSION_SUBSET,
}


def fast_validator(schema: Mapping[str, Any]) -> SchemaValidator:
    """A validator for the core schema of a TypeAdapter over the statement models, that
    accepts a subset of what `schema` accepts and yields the same values."""
    return SchemaValidator(_native(_inline(schema)))


def validate(validator: SchemaValidator, body: bytes) -> Any:
    """The body validated by the fast `validator`; raises ValueError when it does not
    accept it (which is no verdict: the full validator decides)."""
    # The same JSON parser as the full path (the same numbers, the same nesting limit).
    return validator.validate_json(body)


def _inline(schema: Mapping[str, Any]) -> dict[str, Any]:
    # The statement schema is not recursive: each reference can be replaced by its target,
    # which lets the union rewrite below change a member without changing it elsewhere.
    definitions = {d["ref"]: d for d in schema.get("definitions", [])}

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        if node.get("type") == "definition-ref":
            node = definitions[node["schema_ref"]]
        return {key: inline(value) for key, value in node.items() if key != "ref"}

    return inline(schema["schema"] if schema["type"] == "definitions" else schema)  # type: ignore[no-any-return]


def _native(node: Any) -> Any:
    if isinstance(node, list):
        return [_native(item) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "function-after":
        function = node["function"]["function"]
        if function in _NATIVE:
            inner = _expect(node["schema"], "str")
            if "pattern" in inner:
                raise TypeError(f"a pattern already constrains {inner}")
            return {**inner, "pattern": _NATIVE[function]}
        if function is models._interaction_rules:
            return _interaction_union(_native(node["schema"]))
    if kind == "tagged-union":
        return _plain_union(node)
    if kind == "list":  # a refusal is no verdict: stop at the first bad item
        return {**{key: _native(value) for key, value in node.items()}, "fail_fast": True}
    return {key: _native(value) for key, value in node.items()}


def _plain_union(node: dict[str, Any]) -> dict[str, Any]:
    """A union tried member by member, for a union whose members exclude one another."""
    choices = {tag: _native(choice) for tag, choice in node["choices"].items()}
    discriminator = node["discriminator"]
    if discriminator is not models._one_or_many:
        # An objectType-tagged union (models._tag): the member named by objectType, or the
        # default one when it is absent. Every other member must then require its tag.
        default = _closure(discriminator)["default"]
        choices = {tag: (choice if tag == default else _require_object_type(choice))
                   for tag, choice in choices.items()}
        choices = {default: choices.pop(default), **choices}  # the usual one first
    return {"type": "union", "mode": "left_to_right", "choices": list(choices.values())}


def _require_object_type(node: dict[str, Any]) -> dict[str, Any]:
    if node["type"] == "function-after":
        return {**node, "schema": _require_object_type(node["schema"])}
    typed = copy.deepcopy(_expect(node, "typed-dict"))
    typed["fields"]["objectType"]["required"] = True
    return typed


def _interaction_union(typed: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.4.1.s8 (models._interaction_rules): the interaction lists only with an
    # interactionType. Either none of them, or an interactionType.
    _expect(typed, "typed-dict")
    plain = copy.deepcopy(typed)
    for key in models.INTERACTION_LISTS:
        del plain["fields"][key]
    interaction = copy.deepcopy(typed)
    interaction["fields"]["interactionType"]["required"] = True
    return {"type": "union", "mode": "left_to_right", "choices": [plain, interaction]}


def _expect(node: dict[str, Any], kind: str) -> dict[str, Any]:
    # The rewrite knows the shapes pydantic gives these models; another shape (a new
    # pydantic, a changed model) stops the import rather than yield a wrong validator.
    if node["type"] != kind:
        raise TypeError(f"expected a {kind} schema, found {node['type']}")
    return node


def _closure(function: Any) -> dict[str, Any]:
    names = function.__code__.co_freevars
    return {name: cell.cell_contents for name, cell in zip(names, function.__closure__,
                                                           strict=True)}
