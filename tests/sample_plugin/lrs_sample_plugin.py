"""A third-party retention rule, installed through the `lrs` entry-point group (tests only)."""

from __future__ import annotations

from typing import Any

from plugins.hookspecs import Decision, RetentionContext, hookimpl

CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"


class KeepCmi5:
    """Keep in full every statement sent under the cmi5 profile."""

    @hookimpl
    def lrs_retention_decide(self, statement: dict[str, Any], context: RetentionContext
                             ) -> Decision | None:
        categories = statement.get("context", {}).get("contextActivities", {}).get(
            "category", [])
        return Decision.FULL if any(c["id"] == CMI5 for c in categories) else None


plugin = KeepCmi5()
