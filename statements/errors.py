"""Domain errors of the statements package; `lrs.errors` maps each to an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a JSON path such as `$[2].actor.mbox`) and what."""

    path: str
    message: str


class XapiError(Exception):
    """Base of every error a client can cause; carries a message and the problems found."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


class InvalidRequest(XapiError):
    """The request or a statement in it breaks an xAPI rule."""


class Conflict(XapiError):
    """A statement id is already held with different content (Communication §2.1.1.s2.b3)."""


class NotFound(XapiError):
    """No such statement (or it is voided, Communication §2.1.4.s1.b1)."""


class TooLarge(XapiError):
    """The request body is larger than the configured limit (Communication §3.2.s3.b11)."""


class TooSlow(XapiError):
    """The request body did not arrive within the time allowed (a slow-loris defence)."""


class Unauthorized(XapiError):
    """No credentials, or credentials the LRS does not accept."""


class Forbidden(XapiError):
    """Valid credentials whose scopes do not allow the action (Communication §3.2.s3.b10)."""


class TooManyRequests(XapiError):
    """A rate limit was reached (Communication §3.2.s3.b13): 429 with Retry-After."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(Exception):
    """The storage engine failed; raised by stores so driver errors never reach `lrs/`."""
