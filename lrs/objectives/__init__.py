"""Objectives: frameworks of performance objectives or competencies, their assignment to groups.

A `Framework` is loaded once (from a 1EdTech CASE 1.0/1.1 CFPackage, `lrs.objectives.case`,
or a CSV or JSON file, `lrs.objectives.loading`) and kept whole in the `FrameworkStore`;
each `Objective` has an IRI, which is the xAPI Activity id statements about it use (for
CASE, the CFItem's `uri`).
An `Assignment` gives a framework to the groups of the sign-in's groups claim
(`Person.groups`): a learner sees the objectives of the frameworks assigned to any of
their groups. A manager's assessment against an objective is a kept xAPI statement
(`lrs.objectives.assessments.record_assessment`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = ["Assignment", "Format", "Framework", "FrameworkStore", "Objective", "Outcome"]


class Format(StrEnum):
    """Where a framework was loaded from."""

    CASE = "case"  # a 1EdTech CASE CFPackage (JSON)
    CSV = "csv"
    JSON = "json"


class Outcome(StrEnum):
    """A manager's judgement of a learner against one objective."""

    MET = "met"
    NOT_YET = "not_yet"


@dataclass(frozen=True)
class Objective:
    """One objective (a CASE CFItem): `iri` is its xAPI Activity id; `parent` the IRI of
    the objective it sits under in the framework's tree (None: at the top)."""

    iri: str
    title: str
    code: str | None = None  # CASE humanCodingScheme: "1.2.3", "MATH.NBT.1"
    description: str | None = None
    parent: str | None = None
    kind: str | None = None  # CASE CFItemType ("Competency", "Standard"), when given


@dataclass(frozen=True)
class Framework:
    """A framework of objectives, in document order (a parent before its children).

    `id` names it in the API (a CASE CFDocument's identifier, or one given at upload);
    `iri` is the CFDocument's `uri` (or, for CSV and JSON, one given or derived).
    """

    id: str
    iri: str
    title: str
    format: Format
    objectives: tuple[Objective, ...]
    loaded: datetime
    description: str | None = None
    publisher: str | None = None  # CASE creator / publisher
    version: str | None = None  # CASE version
    licence: str | None = None  # CASE licenseURI or the licence text's title, when given
    source: str | None = None  # where the file came from (an upload's file name)
    language: str | None = None  # an RFC 5646 tag (CASE CFDocument.language), when given

    def objective(self, iri: str) -> Objective | None:
        """The objective with this IRI, or None."""
        return next((o for o in self.objectives if o.iri == iri), None)

    def children(self, parent: str | None) -> Iterator[Objective]:
        """The objectives directly under `parent` (None: the top level), in order."""
        return (o for o in self.objectives if o.parent == parent)


@dataclass(frozen=True)
class Assignment:
    """A framework given to groups (values of the groups claim); empty: assigned to nobody."""

    framework: str  # Framework.id
    groups: frozenset[str] = field(default_factory=frozenset)


class FrameworkStore(Protocol):
    """Keeps frameworks (each whole, with its objectives) and their assignments to groups."""

    async def put(self, framework: Framework) -> bool:
        """Store a framework, replacing one with the same id (its assignment is kept);
        True when it is new."""
        ...

    async def get(self, framework_id: str) -> Framework | None:
        """The framework with this id, or None."""
        ...

    async def all(self) -> list[Framework]:
        """Every framework, by title then id."""
        ...

    async def delete(self, framework_id: str) -> bool:
        """Remove a framework and its assignment; False when there was none."""
        ...

    async def assign(self, framework_id: str, groups: Collection[str]) -> bool:
        """Assign the framework to exactly these groups (replacing the previous ones);
        False when there is no such framework."""
        ...

    async def assignments(self) -> list[Assignment]:
        """Every framework's assignment, by framework id (a framework assigned to no group
        has one with no groups)."""
        ...

    async def assigned_to(self, groups: Collection[str]) -> list[Framework]:
        """The frameworks assigned to any of `groups`, by title then id."""
        ...

    async def find_objective(self, iri: str) -> list[tuple[Framework, Objective]]:
        """Every framework holding an objective with this IRI, with that objective."""
        ...
