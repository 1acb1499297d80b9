"""A third-party package shipping an xAPI Profile through the `lrs` entry-point group (tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plugins.hookspecs import hookimpl

# A real package would ship the file beside its module (importlib.resources); this one
# reads the copy in the tests' data, to keep one copy of the published profile.
VIDEO = Path(__file__).parent.parent / "data" / "profiles" / "video.jsonld"


class VideoProfile:
    """The ADL video profile, for the door's profile checks."""

    @hookimpl
    def lrs_profiles_documents(self) -> list[dict[str, Any]]:
        document: dict[str, Any] = json.loads(VIDEO.read_text(encoding="utf-8"))
        return [document]


plugin = VideoProfile()
