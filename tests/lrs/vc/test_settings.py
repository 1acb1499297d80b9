"""The issuer settings are checked when the LRS starts, not at the first export."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from lrs.config import Settings


@pytest.mark.parametrize("did", ["did:key:z6Mk", "did:web:", "did:web:lrs.example.org:lrs",
                                 "https://lrs.example.org"])
def test_settings_refuse_an_issuer_did_that_is_not_a_host_did_web(did: str) -> None:
    with pytest.raises(ValidationError, match="did:web of a host"):
        Settings(vc_issuer_did=did)


def test_settings_accept_a_did_web_with_a_port() -> None:
    assert Settings(vc_issuer_did="did:web:lrs.example.org%3A8443").vc_issuer_did


def test_settings_refuse_an_issuer_key_that_is_not_ed25519() -> None:
    with pytest.raises(ValidationError, match="LRS_VC_ISSUER_KEY"):
        Settings(vc_issuer_key=SecretStr("not a key"))
