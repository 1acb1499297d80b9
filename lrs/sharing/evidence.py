"""A learner's evidence against objectives and their self-ratings: changes appended to their
space (never a plain table), folded into what each objective holds now, with its history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from statements.errors import InvalidRequest, NotFound, Problem

# The kinds of a change, as appended to the space (their `type`).
LINKED = "evidence.linked"
UNLINKED = "evidence.unlinked"
RATED = "evidence.rated"
KINDS = (LINKED, UNLINKED, RATED)

# A self-rating's scale: 1 not yet started … 4 confident, can show others.
LEVELS = {1: "Not yet", 2: "Developing", 3: "Competent", 4: "Confident"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class LinkEvidence(BaseModel):
    """The body of POST /api/v1/objectives/evidence: link one thing to an objective."""

    model_config = ConfigDict(strict=True, extra="forbid")

    objective: Ref  # the objective's IRI
    kind: Literal["entry", "statement", "file"]  # a space entry, a kept statement, a file
    ref: Ref  # the entry's id, the statement's id, the file's id in the space
    title: Text = ""  # how the learner names it (the entry's title when empty)


class RateSelf(BaseModel):
    """The body of POST /api/v1/objectives/ratings: the learner's own rating, with a note."""

    model_config = ConfigDict(strict=True, extra="forbid")

    objective: Ref
    level: int = Field(ge=1, le=4)
    note: Text = ""


@dataclass
class ObjectiveEvidence:
    """What a learner holds against one objective now, and every change that led there."""

    objective: str
    links: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    history: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    @property
    def rating(self) -> dict[str, Any] | None:
        """The latest self-rating, or None."""
        return self.ratings[-1] if self.ratings else None

    def statement_ids(self) -> list[str]:
        """The ids of the kept statements linked, in the order linked."""
        return [link["ref"] for link in self.links if link["kind"] == "statement"]

    def describe(self) -> dict[str, Any]:
        """As the API shows it."""
        return {"objective": self.objective, "links": self.links, "rating": self.rating,
                "ratings": self.ratings, "history": self.history}


def link_change(sent: LinkEvidence, at: datetime, *, default_title: str = "") -> dict[str, Any]:
    """The change that links evidence (its link id is new), named as the learner said, or
    by `default_title` (the thing's own name), or by its ref."""
    return {"type": LINKED, "id": str(uuid.uuid4()), "objective": sent.objective,
            "kind": sent.kind, "ref": sent.ref,
            "title": sent.title or default_title or sent.ref,
            "at": at.isoformat()}


def unlink_change(held: dict[str, ObjectiveEvidence], link_id: str,
                  at: datetime) -> dict[str, Any]:
    """The change that removes a link; NotFound unless the learner holds it now."""
    for evidence in held.values():
        for link in evidence.links:
            if link["id"] == link_id:
                return {"type": UNLINKED, "id": link_id, "objective": evidence.objective,
                        "at": at.isoformat()}
    raise NotFound(f"you have no evidence link {link_id!r}")


def rate_change(sent: RateSelf, at: datetime) -> dict[str, Any]:
    """The change that rates oneself."""
    return {"type": RATED, "objective": sent.objective, "level": sent.level,
            "note": sent.note, "at": at.isoformat()}


def _when(change: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(change.get("at")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def fold(changes: list[dict[str, Any]]) -> dict[str, ObjectiveEvidence]:
    """Every objective's evidence now, from the changes in the order they were made (by
    their time: a space gives its blobs back in no particular order). A change of a kind
    this code does not know is kept out (a newer version wrote it)."""
    held: dict[str, ObjectiveEvidence] = {}
    for change in sorted(changes, key=_when):
        kind, iri = change.get("type"), change.get("objective")
        if kind not in KINDS or not isinstance(iri, str):
            continue
        evidence = held.setdefault(iri, ObjectiveEvidence(iri))
        if kind == LINKED:
            if any(link["kind"] == change["kind"] and link["ref"] == change["ref"]
                   for link in evidence.links):
                continue  # linked already: the same thing once
            evidence.links.append({k: change[k] for k in ("id", "kind", "ref", "title", "at")})
            evidence.history.append({"at": change["at"], "change": "linked",
                                     "detail": f"{change['kind']} {change['title']}"})
        elif kind == UNLINKED:
            gone = [link for link in evidence.links if link["id"] == change["id"]]
            evidence.links = [link for link in evidence.links if link["id"] != change["id"]]
            for link in gone:
                evidence.history.append({"at": change["at"], "change": "unlinked",
                                         "detail": f"{link['kind']} {link['title']}"})
        else:
            rating = {"level": change["level"], "label": LEVELS.get(change["level"], "?"),
                      "note": change["note"], "at": change["at"]}
            evidence.ratings.append(rating)
            evidence.history.append({"at": change["at"], "change": "rated",
                                     "detail": f"{change['level']} {rating['label']}"})
    return held


def require_assigned(iri: str, assigned: dict[str, str], path: str = "$.objective") -> str:
    """The title of an objective assigned to the learner; InvalidRequest otherwise."""
    title = assigned.get(iri)
    if title is None:
        raise InvalidRequest("not one of your objectives", (
            Problem(path, f"{iri!r} is not an objective assigned to you"),))
    return title
