"""The one parser of sharing's request bodies: a pydantic model, each problem at its JSON path."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from statements.errors import InvalidRequest, Problem
from statements.parsing import json_path

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: bytes, what: str) -> M:
    """The validated body; InvalidRequest names each JSON path that is wrong (a body that is
    not JSON, or not an object, is a problem at `$`)."""
    try:
        return model.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise InvalidRequest(f"invalid {what}", tuple(
            Problem(json_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False))
        ) from None
