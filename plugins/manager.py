"""The plugin manager: built-in rules and third-party plugins behind the same hooks."""

from __future__ import annotations

from typing import Any

import pluggy

from plugins import hookspecs
from plugins.hookspecs import Decision, RetentionContext
from plugins.rules import CatalogueRule, CredentialDefaultRule, ServerDefaultRule, VoidingRule

ENTRY_POINT_GROUP = "lrs"


def make_plugin_manager(*, load_entry_points: bool = True,
                        extra: tuple[object, ...] = ()) -> pluggy.PluginManager:
    """Register the built-in rules, then plugins from the `lrs` entry-point group and
    `extra` ones; refuse any plugin implementing a hook that does not exist."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    # Pluggy calls the last registered tryfirst implementation first, but the last
    # registered trylast one last: this order consults catalogue, voiding, (plugins),
    # credential default, server default.
    for rule in (CredentialDefaultRule(), ServerDefaultRule(), VoidingRule(), CatalogueRule()):
        manager.register(rule, name=f"builtin.{type(rule).__name__}")
    if load_entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        manager.register(plugin)
    manager.check_pending()  # a misspelt hook name is an error, not a silent no-op
    return manager


def decide(manager: pluggy.PluginManager, statement: dict[str, Any],
           context: RetentionContext) -> Decision:
    """Run the retention chain for one statement."""
    decision: Decision | str | None = manager.hook.lrs_retention_decide(
        statement=statement, context=context)
    return Decision(decision) if decision is not None else context.server_default
