"""The two xAPI versions this LRS speaks, and how a request's version header maps to one."""

from __future__ import annotations

from enum import StrEnum


class XapiVersion(StrEnum):
    """The version a request is answered in; its value is what response headers carry."""

    V1 = "1.0.3"
    V2 = "2.0.0"

    @property
    def statement_default(self) -> str:
        """The `version` of a stored statement that was sent without one (Data §2.4.10)."""
        return "1.0.0" if self is XapiVersion.V1 else "2.0.0"


def parse_version_header(value: str) -> XapiVersion | None:
    """Map `X-Experience-API-Version` to a mode (Communication §3.3, LRS book 4.1.7).

    `1.0` and any `1.0.x` are 1.0.3; `2.0` and any `2.0.x` are 2.0.0; anything else is None.
    """
    parts = value.strip().split(".")
    if not (2 <= len(parts) <= 3 and parts[1] == "0" and all(p.isdigit() for p in parts)):
        return None
    if parts[0] == "1":
        return XapiVersion.V1
    if parts[0] == "2":
        return XapiVersion.V2
    return None
