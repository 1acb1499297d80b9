"""The JSON-LD document loader that serves only the bundled contexts and never fetches."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pyld.jsonld import JsonLdError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# URL -> file in lrs/vc/contexts/ (contexts/README.md says where each comes from).
BUNDLED: dict[str, str] = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    CLR_V2P0: "clr-v2p0-context-2.0.1.json",
    OB_EXTENSIONS: "ob-v3p0-extensions.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
}


class UnknownContext(ValueError):
    """A document names a JSON-LD context that is not bundled (so it is not fetched)."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not one this LRS knows; contexts are never fetched "
            f"(known: {', '.join(sorted(BUNDLED))})"
        )
        self.url = url


def context_bytes(url: str) -> bytes:
    """The bundled file's bytes for a context URL; `UnknownContext` for any other URL."""
    name = BUNDLED.get(url)
    if name is None:
        raise UnknownContext(url)
    return resources.files("lrs.vc").joinpath("contexts").joinpath(name).read_bytes()


@cache
def _parsed(url: str) -> str:
    # Kept as text and parsed per load: pyld may mutate what a loader returns.
    return context_bytes(url).decode("utf-8")


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: a bundled context, or a loading error naming the URL."""
    try:
        text = _parsed(url)
    except UnknownContext as error:
        raise JsonLdError(
            str(error), "jsonld.LoadDocumentError", code="loading document failed"
        ) from error
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
    }
