"""xAPI Profiles from plugins: the documents each `lrs_profiles_documents` hook yields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

from statements.profiles import Profile, ProfileError, parse_profile

Sourced = tuple[str, Mapping[str, Any]]


def profile_documents(manager: pluggy.PluginManager,
                      configured: Iterable[Sourced] = ()) -> list[Sourced]:
    """The configured profile documents (source, document), then each plugin's, named by
    the plugin that gave them."""
    sources = list(configured)
    # Each implementation called on its own, so a bad document names its plugin.
    for impl in reversed(manager.hook.lrs_profiles_documents.get_hookimpls()):
        documents: Iterable[Mapping[str, Any]] = impl.function() or ()  # type: ignore[assignment]  # pluggy types hook functions as object-returning
        name = f"plugin {impl.plugin_name} ({type(impl.plugin).__name__})"
        sources.extend((name, d) for d in documents)
    return sources


def read_profiles(sources: Iterable[Sourced], schemas: Mapping[str, Any] | None = None
                  ) -> tuple[Profile, ...]:
    """Each document read once; a profile id given twice keeps the first (configuration
    wins over a plugin). A document that is not a usable profile stops the start, naming
    where it came from."""
    found: dict[str, Profile] = {}
    for source, document in sources:
        try:
            profile = parse_profile(document, schemas)
        except ProfileError as error:
            raise ProfileError(f"a profile from {source}: {error}") from error
        found.setdefault(profile.id, profile)
    return tuple(found.values())


def schema_iris(sources: Iterable[Sourced]) -> set[str]:
    """The `schema` IRIs of extension concepts that carry no `inlineSchema`: what a loader
    fetches so `collect_profiles` can check those extensions too."""
    return {c["schema"] for _, d in sources for c in d.get("concepts", ())
            if isinstance(c, Mapping) and isinstance(c.get("schema"), str)
            and "inlineSchema" not in c}
