"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C vc-di-eddsa §3.3)."""

from __future__ import annotations

import asyncio
import copy
import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld

from lrs.vc.contexts import document_loader
from lrs.vc.keys import decode_multibase_base58btc, multibase_base58btc

PROOF_TYPE = "DataIntegrityProof"
P = ParamSpec("P")
T = TypeVar("T")
CRYPTOSUITE = "eddsa-rdfc-2022"


class ProofError(ValueError):
    """A proof is malformed or does not verify; `path` is where, as a JSON path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@functools.cache
def _jsonld_thread() -> ThreadPoolExecutor:
    # pyld's context caches are module state, not safe across threads: one thread does all
    # the JSON-LD work of the process, off the event loop.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="lrs-vc-jsonld")


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run canonicalizing work (signing, verifying) in the JSON-LD thread, not the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_jsonld_thread(), functools.partial(fn, *args, **kwargs))


class _Dropped(Exception):
    def __init__(self, term: str | None) -> None:
        super().__init__(term)
        self.term = term


def _refuse_dropped(term: str | None) -> None:
    raise _Dropped(term)


def canonicalize(document: dict[str, Any]) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, the URDNA2015 algorithm) as N-Quads.

    Contexts come only from the bundled loader: a document naming any other context
    raises ProofError rather than reaching the network. Safe mode (vc-di-eddsa §3.3.1
    step 2 "safe mode" of jsonld.js): a property the contexts do not define would be
    dropped from the canonical form, and so be outside the signature; it is refused.
    """
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    try:
        result: str = processor.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
            },
        )
    except jsonld.JsonLdError as error:
        raise ProofError("$", f"cannot canonicalize the JSON-LD: {_root_cause(error)}") from None
    except _Dropped as dropped:
        path, key = _find_key(document, dropped.term)
        raise ProofError(
            path,
            f"the property {key!r} is not defined by the credential's contexts, "
            "so no signature could cover it (JSON-LD safe mode)",
        ) from None
    return result


def _find_key(value: Any, term: str | None, path: str = "$") -> tuple[str, str | None]:
    """Where the dropped property is: pyld names it by its (unexpanded) key, or gives None
    for an `@`-key that is no keyword."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                continue
            if key == term or (term is None and key.startswith("@") and key not in _KEYWORDS):
                return f"{path}.{key}", key
            found = _find_key(item, term, f"{path}.{key}")
            if found[0] != "$":
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_key(item, term, f"{path}[{index}]")
            if found[0] != "$":
                return found
    return "$", term


_KEYWORDS = frozenset({
    "@base", "@container", "@direction", "@graph", "@id", "@import", "@included", "@index",
    "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate", "@protected",
    "@reverse", "@set", "@type", "@value", "@version", "@vocab",
})


def _root_cause(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error).splitlines()[0]


@dataclass(frozen=True)
class HashData:
    """The intermediate values of §3.3.4 (what 1EdTech's test vector publishes)."""

    canonical_proof_config: str
    canonical_document: str
    proof_config_hash: bytes
    document_hash: bytes

    @property
    def to_sign(self) -> bytes:
        # vc-di-eddsa §3.3.4: proofConfigHash || transformedDocumentHash.
        return self.proof_config_hash + self.document_hash


def hash_data(unsecured: dict[str, Any], proof_options: dict[str, Any]) -> HashData:
    """Canonicalize and hash the document and the proof configuration (§3.3.2 to §3.3.5)."""
    proof_config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    # §3.3.5 step 5: the proof configuration carries the document's @context.
    proof_config["@context"] = unsecured["@context"]
    canonical_config = canonicalize(proof_config)
    canonical_document = canonicalize(unsecured)
    return HashData(
        canonical_config,
        canonical_document,
        hashlib.sha256(canonical_config.encode("utf-8")).digest(),
        hashlib.sha256(canonical_document.encode("utf-8")).digest(),
    )


def add_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
) -> dict[str, Any]:
    """A copy of `document` with an `eddsa-rdfc-2022` DataIntegrityProof (§3.3.1)."""
    unsecured = {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(hash_data(unsecured, proof).to_sign)
    proof["proofValue"] = multibase_base58btc(signature)
    return {**unsecured, "proof": proof}


def proof_of(secured: dict[str, Any], path: str = "$") -> dict[str, Any]:
    """The one eddsa-rdfc-2022 proof of a secured document, checked for shape."""
    proof = secured.get("proof")
    if isinstance(proof, list) and len(proof) == 1:  # a proof set of one (VC DI §2.1.1)
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError(f"{path}.proof", "expected one DataIntegrityProof object")
    for key, expected in (
        ("type", PROOF_TYPE),
        ("cryptosuite", CRYPTOSUITE),
        ("proofPurpose", "assertionMethod"),
    ):
        if proof.get(key) != expected:
            raise ProofError(f"{path}.proof.{key}", f"expected {expected!r}")
    for key in ("verificationMethod", "proofValue"):
        if not isinstance(proof.get(key), str):
            raise ProofError(f"{path}.proof.{key}", "expected a string")
    if "@context" in proof:
        raise ProofError(f"{path}.proof.@context", "a proof's own @context is not supported")
    return proof


def verify_proof(secured: dict[str, Any], public_key: Ed25519PublicKey, path: str = "$") -> None:
    """Verify the document's eddsa-rdfc-2022 proof with `public_key` (§3.3.2).

    Raises ProofError when the proof is malformed or the signature does not match
    (any change to the document or the proof options breaks it).
    """
    proof = proof_of(secured, path)
    try:
        signature = decode_multibase_base58btc(proof["proofValue"])
    except ValueError as error:
        raise ProofError(f"{path}.proof.proofValue", str(error)) from None
    if len(signature) != 64:
        raise ProofError(f"{path}.proof.proofValue", "expected a 64-byte Ed25519 signature")
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    data = hash_data(unsecured, proof)
    try:
        public_key.verify(signature, data.to_sign)
    except InvalidSignature:
        raise ProofError(
            f"{path}.proof.proofValue",
            "the signature does not match: the credential was altered or signed by another key",
        ) from None
