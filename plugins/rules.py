"""The built-in retention rules (DESIGN §3), registered through the same hooks as plugins."""

from __future__ import annotations

from typing import Any

from plugins.hookspecs import Decision, RetentionContext, hookimpl

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class CatalogueRule:
    """Statements about a mandatory activity (object, or parent/grouping) are kept."""

    @hookimpl(tryfirst=True)
    def lrs_retention_decide(self, statement: dict[str, Any], context: RetentionContext
                             ) -> Decision | None:
        return Decision.FULL if context.catalogue.matches(statement) else None


class VoidingRule:
    """A voiding statement follows the statement it voids: kept if that one was kept, a
    take-back of its hit if it was tallied. An unknown target decides nothing."""

    @hookimpl(tryfirst=True)
    def lrs_retention_decide(self, statement: dict[str, Any], context: RetentionContext
                             ) -> Decision | None:
        if statement["verb"]["id"] != VOIDED:
            return None
        return context.voided_targets.get(statement["object"]["id"].lower())


class CredentialDefaultRule:
    """What the posting credential says (`lrs credentials create --retention`)."""

    @hookimpl(trylast=True)
    def lrs_retention_decide(self, statement: dict[str, Any], context: RetentionContext
                             ) -> Decision | None:
        return context.credential_default


class ServerDefaultRule:
    """The last word: the server's default (tally)."""

    @hookimpl(trylast=True)
    def lrs_retention_decide(self, statement: dict[str, Any], context: RetentionContext
                             ) -> Decision | None:
        return context.server_default
