"""The shape of a sent Statement (Data §2.4, LRS book 4.2.2) as strict pydantic TypedDicts.

Validation yields plain dicts holding exactly the keys that were sent: what the LRS keeps
and returns in the `exact` format. Every TypedDict forbids unknown keys (Data §2.2.s4.b1.b7)
and nulls (a `NotRequired[str]` rejects `null`, D2.2.s4.b1.b1); strict mode refuses
`"true"` for a boolean and `"1"` for a number (D2.2.s4.b1.b2-b3).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, ConfigDict, Discriminator, Field, Tag, with_config
from typing_extensions import TypedDict

from statements.datatypes import (
    IRI,
    UUID,
    Duration,
    LanguageTag,
    Mailto,
    Sha1Hex,
    Timestamp,
)

STRICT = ConfigDict(extra="forbid", strict=True)
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"

Number = int | float
LanguageMap = dict[LanguageTag, str]
# Extension keys are IRIs; values are any JSON, null included (Data §4.1.s3.b2).
Extensions = dict[IRI, Any]


def _tag(default: str) -> Any:
    """Discriminate on objectType, falling back to the spec's default when it is absent."""

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            kind = value.get("objectType", default)
            return kind if isinstance(kind, str) else None
        return None

    return pick


@with_config(STRICT)
class Account(TypedDict):
    homePage: IRI  # Data §2.4.2.4: both required
    name: str


def _one_ifi(agent: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.2.1.s2.b1-b2: an Agent has exactly one inverse functional identifier.
    found = [key for key in IFI_KEYS if key in agent]
    if len(found) != 1:
        raise ValueError(
            "an Agent must have exactly one of mbox, mbox_sha1sum, openid, account"
            + (f" (found {', '.join(found)})" if found else "")
        )
    return agent


@with_config(STRICT)
class _Agent(TypedDict):
    objectType: NotRequired[Literal["Agent"]]
    name: NotRequired[str]
    mbox: NotRequired[Mailto]
    mbox_sha1sum: NotRequired[Sha1Hex]
    openid: NotRequired[IRI]
    account: NotRequired[Account]


Agent = Annotated[_Agent, AfterValidator(_one_ifi)]


def _group_rules(group: dict[str, Any]) -> dict[str, Any]:
    found = [key for key in IFI_KEYS if key in group]
    if len(found) > 1:
        raise ValueError(f"a Group may have only one identifier (found {', '.join(found)})")
    # Data §2.4.2.2.s4.b1: an anonymous Group must list its members.
    if not found and not group.get("member"):
        raise ValueError("an anonymous Group (one without an identifier) must have members")
    return group


@with_config(STRICT)
class _Group(TypedDict):
    objectType: Literal["Group"]  # required for Groups (Data §2.4.2.2)
    name: NotRequired[str]
    member: NotRequired[list[Agent]]  # members are Agents, never Groups (D2.4.2.2.s4.b2)
    mbox: NotRequired[Mailto]
    mbox_sha1sum: NotRequired[Sha1Hex]
    openid: NotRequired[IRI]
    account: NotRequired[Account]


Group = Annotated[_Group, AfterValidator(_group_rules)]
Actor = Annotated[
    Annotated[Agent, Tag("Agent")] | Annotated[Group, Tag("Group")],
    Discriminator(_tag("Agent"), custom_error_type="actor_type",
                  custom_error_message="objectType must be 'Agent' or 'Group'"),
]


@with_config(STRICT)
class Verb(TypedDict):
    id: IRI
    display: NotRequired[LanguageMap]


@with_config(STRICT)
class InteractionComponent(TypedDict):
    id: Annotated[str, Field(min_length=1)]
    description: NotRequired[LanguageMap]


Components = Annotated[list[InteractionComponent], AfterValidator(
    lambda items: _unique_ids(items))]


def _unique_ids(items: list[InteractionComponent]) -> list[InteractionComponent]:
    ids = [item["id"] for item in items]
    if len(ids) != len(set(ids)):  # Data §2.4.4.1.s16: ids unique within a list
        raise ValueError("interaction component ids must be unique within a list")
    return items


INTERACTION_LISTS = ("correctResponsesPattern", "choices", "scale", "source", "target", "steps")


def _interaction_rules(definition: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.4.1.s8: interaction properties need an interactionType.
    if "interactionType" not in definition:
        used = [key for key in INTERACTION_LISTS if key in definition]
        if used:
            raise ValueError(f"{', '.join(used)} may only be used with an interactionType")
    return definition


@with_config(STRICT)
class _ActivityDefinition(TypedDict):
    name: NotRequired[LanguageMap]
    description: NotRequired[LanguageMap]
    type: NotRequired[IRI]
    moreInfo: NotRequired[IRI]
    extensions: NotRequired[Extensions]
    interactionType: NotRequired[Literal[
        "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
        "sequencing", "likert", "numeric", "other",
    ]]
    correctResponsesPattern: NotRequired[list[str]]
    choices: NotRequired[Components]
    scale: NotRequired[Components]
    source: NotRequired[Components]
    target: NotRequired[Components]
    steps: NotRequired[Components]


ActivityDefinition = Annotated[_ActivityDefinition, AfterValidator(_interaction_rules)]


@with_config(STRICT)
class Activity(TypedDict):
    objectType: NotRequired[Literal["Activity"]]
    id: IRI
    definition: NotRequired[ActivityDefinition]


@with_config(STRICT)
class StatementRef(TypedDict):
    objectType: Literal["StatementRef"]
    id: UUID


def _score_rules(score: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.5.1: scaled in [-1, 1]; min < max; raw within [min, max].
    scaled, low, high, raw = (score.get(k) for k in ("scaled", "min", "max", "raw"))
    if scaled is not None and not -1 <= scaled <= 1:
        raise ValueError("score.scaled must lie between -1 and 1")
    if low is not None and high is not None and low >= high:
        raise ValueError("score.min must be less than score.max")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise ValueError("score.raw must lie between score.min and score.max")
    return score


@with_config(STRICT)
class _Score(TypedDict):
    scaled: NotRequired[Number]
    raw: NotRequired[Number]
    min: NotRequired[Number]
    max: NotRequired[Number]


@with_config(STRICT)
class Result(TypedDict):
    score: NotRequired[Annotated[_Score, AfterValidator(_score_rules)]]
    success: NotRequired[bool]
    completion: NotRequired[bool]
    response: NotRequired[str]
    duration: NotRequired[Duration]
    extensions: NotRequired[Extensions]


def _one_or_many(value: Any) -> str:
    return "many" if isinstance(value, list) else "one"


# Data §2.4.6.2.s4.b2: each value is one Activity or an array of them.
ContextActivityList = Annotated[
    Annotated[Activity, Tag("one")] | Annotated[list[Activity], Tag("many")],
    Discriminator(_one_or_many),
]


@with_config(STRICT)
class ContextActivities(TypedDict):
    parent: NotRequired[ContextActivityList]
    grouping: NotRequired[ContextActivityList]
    category: NotRequired[ContextActivityList]
    other: NotRequired[ContextActivityList]


RelevantTypes = Annotated[list[IRI], Field(min_length=1)]


@with_config(STRICT)
class ContextAgent(TypedDict):  # xAPI 2.0, LRS book 4.2.2.5
    objectType: Literal["contextAgent"]
    agent: Agent
    relevantTypes: NotRequired[RelevantTypes]


@with_config(STRICT)
class ContextGroup(TypedDict):  # xAPI 2.0, LRS book 4.2.2.5
    objectType: Literal["contextGroup"]
    group: Group
    relevantTypes: NotRequired[RelevantTypes]


@with_config(STRICT)
class Context(TypedDict):
    registration: NotRequired[UUID]
    instructor: NotRequired[Actor]
    team: NotRequired[Group]  # an Agent as team is rejected (Data §2.4.6)
    contextActivities: NotRequired[ContextActivities]
    contextAgents: NotRequired[list[ContextAgent]]
    contextGroups: NotRequired[list[ContextGroup]]
    revision: NotRequired[str]
    platform: NotRequired[str]
    language: NotRequired[LanguageTag]
    statement: NotRequired[StatementRef]
    extensions: NotRequired[Extensions]


@with_config(STRICT)
class Attachment(TypedDict):  # Data §2.4.11
    usageType: IRI
    display: LanguageMap
    description: NotRequired[LanguageMap]
    contentType: Annotated[str, Field(min_length=1)]
    length: Annotated[int, Field(ge=0)]
    sha2: Annotated[str, Field(min_length=1)]
    fileUrl: NotRequired[IRI]


def _context_rules(statement: dict[str, Any]) -> dict[str, Any]:
    context = statement.get("context")
    obj = statement["object"]
    # Data §2.4.6.s4.b1-b2: revision and platform only when the object is an Activity.
    if context is not None and obj.get("objectType", "Activity") != "Activity":
        misplaced = [key for key in ("revision", "platform") if key in context]
        if misplaced:
            raise ValueError(
                f"context.{misplaced[0]} is only allowed when the object is an Activity"
            )
    # Data §2.3.2.s2.b1-b2: a voiding statement's object is a StatementRef.
    if statement["verb"]["id"] == VOIDED and obj.get("objectType") != "StatementRef":
        raise ValueError("a statement with the verb 'voided' must have a StatementRef object")
    return statement


SubObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")],
    Discriminator(_tag("Activity"), custom_error_type="object_type",
                  custom_error_message="objectType must be Activity, Agent, Group or "
                  "StatementRef (a SubStatement cannot contain a SubStatement)"),
]


@with_config(STRICT)
class _SubStatement(TypedDict):
    # Data §2.4.4.3.s8.b3: no id, stored, version or authority inside a SubStatement.
    objectType: Literal["SubStatement"]
    actor: Actor
    verb: Verb
    object: SubObject
    result: NotRequired[Result]
    context: NotRequired[Context]
    timestamp: NotRequired[Timestamp]
    attachments: NotRequired[list[Attachment]]


SubStatement = Annotated[_SubStatement, AfterValidator(_context_rules)]
StatementObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")]
    | Annotated[SubStatement, Tag("SubStatement")],
    Discriminator(_tag("Activity"), custom_error_type="object_type",
                  custom_error_message="objectType must be Activity, Agent, Group, "
                  "StatementRef or SubStatement"),
]


def _authority_rules(statement: dict[str, Any]) -> dict[str, Any]:
    # Data §2.4.9.s3.b1: an authority is an Agent, or an anonymous Group of two Agents.
    authority = statement.get("authority")
    if authority is not None and authority.get("objectType") == "Group":
        if any(key in authority for key in IFI_KEYS):
            raise ValueError("authority may not be an identified Group")
        if len(authority.get("member", [])) != 2:
            raise ValueError("an authority Group must have exactly two members")
    return _context_rules(statement)


def _version(value: str) -> str:
    # Data §2.4.10.s3.b1-b2: 1.0 or 1.0.x (2.0: also 2.0 or 2.0.x); checked per mode later.
    parts = value.split(".")
    if not (2 <= len(parts) <= 3 and parts[0] in ("1", "2") and parts[1] == "0"
            and all(p.isdigit() for p in parts)):
        raise ValueError("must be 1.0.x or 2.0.x")
    return value


@with_config(STRICT)
class _Statement(TypedDict):
    id: NotRequired[UUID]
    actor: Actor
    verb: Verb
    object: StatementObject
    result: NotRequired[Result]
    context: NotRequired[Context]
    timestamp: NotRequired[Timestamp]
    stored: NotRequired[Timestamp]  # validated, then overwritten (Data §2.4.8.s3.b2)
    authority: NotRequired[Actor]
    version: NotRequired[Annotated[str, AfterValidator(_version)]]
    attachments: NotRequired[list[Attachment]]


Statement = Annotated[_Statement, AfterValidator(_authority_rules)]
