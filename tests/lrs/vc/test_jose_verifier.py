"""Our VC-JWTs verified by another implementation: panva's jose (npm), the key resolved from
the `kid` by the DCC's did:key driver or from the did.json we serve."""

from __future__ import annotations

from pathlib import Path

from lrs.vc import vcjwt
from tests.lrs.vc.dcc import jose_verify
from tests.lrs.vc.factories import make_key, make_record


def test_jose_accepts_our_badge_and_clr_vc_jwts_carrying_the_credential(tmp_path: Path) -> None:
    key = make_key(tmp_path)
    record = make_record(key, count=2)
    assert record.clr is not None and record.clr_jwt is not None
    for credential, token in [*zip(record.badges, record.badge_jwts, strict=True),
                              (record.clr, record.clr_jwt)]:
        verdict = jose_verify(token)
        assert verdict["verified"] is True, verdict
        assert verdict["header"] == {"alg": "Ed25519", "kid": key.verification_method,
                                     "typ": "JWT"}
        assert verdict["payload"] == vcjwt.claims_for(credential)


def test_jose_rejects_a_changed_payload_or_another_key(tmp_path: Path) -> None:
    key = make_key(tmp_path / "a")
    token = make_record(key, count=1).badge_jwts[0]
    head, _body, signature = token.split(".")
    other = make_record(make_key(tmp_path / "b"), count=1).badge_jwts[0].split(".")[1]
    assert jose_verify(f"{head}.{other}.{signature}")["verified"] is False
    forged = vcjwt.encode(make_record(key, count=1).badges[0],
                          make_key(tmp_path / "c").private_key, key.verification_method)
    verdict = jose_verify(forged)
    assert verdict["verified"] is False and "signature" in verdict["error"]


def test_jose_accepts_a_did_web_vc_jwt_with_the_did_document_we_serve(tmp_path: Path) -> None:
    key = make_key(tmp_path, did="did:web:lrs.example.org")
    token = make_record(key, count=1).badge_jwts[0]
    assert jose_verify(token, {key.did: key.did_document()})["verified"] is True
    assert jose_verify(token)["verified"] is False  # no document, no key
