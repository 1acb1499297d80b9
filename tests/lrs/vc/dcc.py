"""Runs the independent verifiers of tests/vc offline: the DCC verifier (npm
@digitalcredentials/verifier-core, verify.mjs) and jose for VC-JWT (verify-jwt.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lrs.vc.contexts import CLR_V2P0, context_bytes

VC_DIR = Path(__file__).resolve().parents[2] / "vc"
NODE = shutil.which("node")


def require_verifier() -> None:
    """Skip, saying why, where node or tests/vc/node_modules is missing."""
    if NODE is None or not (VC_DIR / "node_modules").exists():
        pytest.skip("node or tests/vc/node_modules is missing (make test installs both)")


def dcc_verify(credential: dict[str, Any], documents: dict[str, Any] | None = None) -> Any:
    """verifier-core's verdict on a credential: {verified, result, refused}.

    It is served the CLR 2.0 context (no npm package has it) and `documents` (a did.json),
    and nothing else: any other URL it asks for is refused and listed in `refused`.
    """
    require_verifier()
    assert NODE is not None
    served = {CLR_V2P0: json.loads(context_bytes(CLR_V2P0)), **(documents or {})}
    out = subprocess.run(
        [NODE, str(VC_DIR / "verify.mjs")],
        input=json.dumps({"credential": credential, "documents": served}),
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout)


def jose_verify(token: str, did_documents: dict[str, Any] | None = None) -> Any:
    """jose's verdict on a VC-JWT: {verified, header, payload} or {verified: false, error};
    the key from its kid (did:key by DCC's driver, did:web from `did_documents`)."""
    require_verifier()
    assert NODE is not None
    out = subprocess.run(
        [NODE, str(VC_DIR / "verify-jwt.mjs")],
        input=json.dumps({"jwt": token, "didDocuments": did_documents or {}}),
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout)
