"""Where the door's xAPI Profiles come from: LRS_PROFILES (files, directories, URLs) and plugins."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pluggy

from lrs.config import Settings
from plugins.profiles import Sourced, profile_documents, read_profiles, schema_iris
from statements.profiles import Profile, ProfileError

log = logging.getLogger("lrs.profiles")
_SUFFIXES = (".jsonld", ".json")


async def load_profiles(settings: Settings, manager: pluggy.PluginManager
                        ) -> tuple[Profile, ...]:
    """Every profile the door checks: those LRS_PROFILES names, then the plugins'. A URL
    is fetched now and its copy kept in the data directory, so a start while the profile
    server is down uses the last copy; with no copy either, the start fails, naming it."""
    configured: list[Sourced] = []
    async with httpx2.AsyncClient(timeout=settings.profiles_fetch_timeout_seconds,
                                  follow_redirects=True) as client:
        for entry in settings.profiles:
            for source, raw in await _read(entry, client, settings.data_dir):
                configured.append((source, _json(raw, source)))
        sources = profile_documents(manager, configured)
        schemas = {iri: _json(raw, iri) for iri in sorted(schema_iris(sources))
                   if iri.startswith(("http://", "https://"))
                   for _, raw in [await _fetch(iri, client, settings.data_dir)]}
    return read_profiles(sources, schemas)


async def _read(entry: str, client: httpx2.AsyncClient, data_dir: Path
                ) -> list[tuple[str, bytes]]:
    if entry.startswith(("http://", "https://")):
        return [await _fetch(entry, client, data_dir)]
    path = Path(entry)
    if path.is_dir():
        return [(str(p), p.read_bytes()) for p in sorted(path.iterdir())
                if p.suffix in _SUFFIXES]
    try:
        return [(entry, path.read_bytes())]
    except OSError as error:
        raise ProfileError(f"LRS_PROFILES: cannot read {entry}: {error.strerror}") from None


async def _fetch(url: str, client: httpx2.AsyncClient, data_dir: Path) -> tuple[str, bytes]:
    """The document at `url`, and a copy kept under <data_dir>/profiles; the copy when the
    server cannot be reached or does not answer 200."""
    copy = data_dir / "profiles" / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.jsonld"
    try:
        response = await client.get(url, headers={"Accept": "application/ld+json, "
                                                             "application/json"})
        response.raise_for_status()
    except httpx2.HTTPError as error:
        why = (f"answered {error.response.status_code}"
               if isinstance(error, httpx2.HTTPStatusError) else str(error) or type(error).__name__)
        if copy.exists():
            log.warning("profile %s could not be fetched (%s): using the copy of %s",
                        url, why, copy)
            return url, copy.read_bytes()
        raise ProfileError(f"LRS_PROFILES: {url} could not be fetched ({why}) and no "
                           f"copy of it is kept in {copy.parent}") from None
    copy.parent.mkdir(parents=True, exist_ok=True)
    partial = copy.with_suffix(".partial")
    partial.write_bytes(response.content)
    partial.replace(copy)  # a crash mid-write leaves the last good copy
    return url, response.content


def _json(raw: bytes, source: str) -> Mapping[str, Any]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ProfileError(f"{source} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ProfileError(f"{source} is not a JSON object")
    return document
