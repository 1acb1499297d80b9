"""xAPI data types (Data §4, LRS book 4.2.7): IRIs, UUIDs, timestamps, durations, language tags."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Absolute IRI (RFC 3987 §2.2, best effort as Data §2.2.s4.b6 allows): a scheme, then no
# characters that may never appear in an IRI (spaces, controls, <>"{}|\^`).
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_MAILTO = re.compile(r"^mailto:[^@\s:/?#]+@[^@\s/?#]+\.[^@\s/?#]+$")
_SHA1_HEX = re.compile(r"^[0-9A-Fa-f]{40}$")
_SHA2_HEX = re.compile(r"^(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{96}|[0-9A-Fa-f]{128})$")

# What format_timestamp writes: UTC, milliseconds, Z.
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

# ISO 8601 combined date-time (Data §4.5). The negative-zero offsets -00, -0000 and -00:00
# are "unknown local offset" in RFC 3339 and are rejected (CTS #123, xAPI-Spec #1073).
_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)

# ISO 8601:2004 §4.4.3.2 durations (Data §4.6): PnYnMnDTnHnMnS or PnW, the last component
# may carry a fraction. The alternative format (P0003-01-29T…) and mixed PnWnD are invalid.
_DURATION = re.compile(
    r"^P(?!$)(?:(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?|\d+(?:\.\d+)?W)$"
)

# RFC 5646 language tag (Data §4.2, LRS book 4.2.7: invalid tags are rejected in 2.0).
_LANGTAG = re.compile(
    r"""^(?:
      (?P<langtag>
        (?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})   # language
        (?:-[A-Za-z]{4})?                                               # script
        (?:-(?:[A-Za-z]{2}|\d{3}))?                                     # region
        (?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*                     # variants
        (?P<ext>(?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*)            # extensions
        (?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?                                # private use
      )
      |[Xx](?:-[A-Za-z0-9]{1,8})+                                       # private use only
      |[Ii]-[A-Za-z]{3,8}|[A-Za-z]{2}-[A-Za-z]{2,3}(?:-[A-Za-z]{2,8})*  # grandfathered forms
    )$""",
    re.VERBOSE,
)


# Verbs, activity ids and types, extension keys and language tags repeat from statement to
# statement: a check already made is remembered (bounded) rather than run again.
@functools.lru_cache(maxsize=65536)
def is_iri(value: str) -> bool:
    """An absolute IRI: a scheme and no character an IRI may never contain."""
    return bool(_IRI.match(value))


@functools.lru_cache(maxsize=4096)
def is_language_tag(value: str) -> bool:
    """An RFC 5646 tag; an extension singleton may appear only once (RFC 5646 §2.2.6)."""
    match = _LANGTAG.match(value)
    if not match:
        return False
    ext = match.group("ext")
    if ext:
        singletons = [p.lower() for p in ext.split("-") if len(p) == 1]
        if len(singletons) != len(set(singletons)):
            return False
    return True


@functools.lru_cache(maxsize=4096)  # one statement's timestamp is read by several steps
def parse_timestamp(value: str) -> datetime:
    """Parse an xAPI Timestamp into an aware UTC datetime; raise ValueError when invalid."""
    if _CANONICAL.fullmatch(value):  # the form most clients send (and we store)
        try:
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError(f"is not a real date-time ({exc})") from None
    match = _TIMESTAMP.match(value)
    if not match:
        raise ValueError("must be an ISO 8601 date-time such as 2024-05-01T12:00:00.000Z")
    tz = match.group("tz")
    if tz and tz[0] == "-" and set(tz[1:].replace(":", "")) == {"0"}:
        raise ValueError("the offset -00:00 is not allowed: use Z or +00:00")
    fraction = (match.group("f") or "")[:6].ljust(6, "0")
    try:
        parsed = datetime.fromisoformat(
            f"{match.group('date')}T{match.group('h')}:{match.group('m')}:"
            f"{match.group('s') or '00'}.{fraction}"
        )
    except ValueError as exc:
        raise ValueError(f"is not a real date-time ({exc})") from None
    offset = timedelta()
    if tz and tz not in ("Z", "z"):
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("has an impossible UTC offset")
        offset = timedelta(hours=hours, minutes=minutes) * (1 if tz[0] == "+" else -1)
    return (parsed - offset).replace(tzinfo=UTC)


@functools.lru_cache(maxsize=1024)  # a batch shares one `stored`
def format_timestamp(moment: datetime) -> str:
    """Render UTC with exactly three fractional digits and a Z (CTS #122 wants the ms)."""
    m = moment.astimezone(UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{m.microsecond // 1000:03d}Z")


@functools.lru_cache(maxsize=1024)  # a batch shares one `stored`
def timestamp_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, the engines' sort key for `stored`."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(millis: int) -> datetime:
    """The inverse of timestamp_ms."""
    return datetime.fromtimestamp(millis / 1000, UTC)


@functools.lru_cache(maxsize=4096)  # read by enrichment and by the equivalence hash
def normalise_timestamp(value: str) -> str:
    """The same instant in UTC to the millisecond (2.0 L4.2.7 converts to UTC, may truncate)."""
    moment = parse_timestamp(value)  # validates, whatever the form
    return value if _CANONICAL.fullmatch(value) else format_timestamp(moment)


def truncate_duration(value: str) -> str:
    """Truncate (never round) seconds to 0.01 s, the precision durations compare at (D4.6)."""
    if "." not in value or not value.endswith("S"):
        return value
    head, fraction = value[:-1].rsplit(".", 1)
    fraction = fraction[:2].rstrip("0")
    return f"{head}.{fraction}S" if fraction else f"{head}S"


def _check(predicate: object, message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not predicate(value):  # type: ignore[operator]  # predicate is a str -> bool callable
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _timestamp(value: str) -> str:
    parse_timestamp(value)
    return value


# The most frequent string types are checked by pydantic-core's own regex engine, with no
# call back into Python per string (a third of the validation time); the error it reports
# names the pattern, which PATTERN_MESSAGES turns back into a sentence.
PATTERN_MESSAGES: dict[str, str] = {}


def _native(pattern: re.Pattern[str], message: str) -> StringConstraints:
    PATTERN_MESSAGES[pattern.pattern] = message
    return StringConstraints(pattern=pattern.pattern)


IRI = Annotated[str, _native(_IRI, "must be an absolute IRI with a scheme (Data §4.1)")]
UUID = Annotated[
    str, _native(_UUID, "must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
]
Mailto = Annotated[str, _native(_MAILTO, "must be a mailto: IRI of an e-mail address")]
Sha1Hex = Annotated[str, _native(_SHA1_HEX, "must be 40 hexadecimal digits (SHA-1)")]
Sha2Hex = Annotated[str, _native(_SHA2_HEX, "must be the hex digest of SHA-256/384/512")]
Timestamp = Annotated[str, AfterValidator(_timestamp)]
Duration = Annotated[
    str, _check(_DURATION.match, "must be an ISO 8601 duration such as PT1H30M (Data §4.6)")
]
LanguageTag = Annotated[str, _check(is_language_tag, "must be an RFC 5646 language tag")]


def is_uuid(value: str) -> bool:
    """A UUID in its standard 8-4-4-4-12 hex form."""
    return bool(_UUID.match(value))
