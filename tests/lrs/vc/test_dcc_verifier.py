"""The Digital Credentials Consortium's verifier (npm @digitalcredentials/verifier-core) on
our credentials: it accepts them and rejects a tampered copy, offline."""

from __future__ import annotations

import copy
from pathlib import Path

from lrs.vc.verify import did_web_url
from tests.lrs.vc.dcc import dcc_verify
from tests.lrs.vc.factories import make_key, make_record


def test_dcc_accepts_our_open_badge_signed_with_did_key(tmp_path: Path) -> None:
    badge = make_record(make_key(tmp_path), count=1).badges[0]
    verdict = dcc_verify(badge)
    assert verdict["verified"] is True, verdict
    steps = {step["id"]: step.get("valid") for step in verdict["result"]["log"]}
    assert steps["valid_signature"] is True and steps["expiration"] is True
    # It asked for nothing but 1EdTech's JSON Schema of OB 3.0 (its optional schema check).
    assert all("/schema/" in url for url in verdict["refused"]), verdict["refused"]


def test_dcc_accepts_our_clr_bundling_signed_badges(tmp_path: Path) -> None:
    record = make_record(make_key(tmp_path), count=2)
    assert record.clr is not None
    verdict = dcc_verify(record.clr)
    assert verdict["verified"] is True, verdict
    for badge in record.clr["credentialSubject"]["verifiableCredential"]:
        assert dcc_verify(badge)["verified"] is True


def test_dcc_rejects_a_tampered_open_badge(tmp_path: Path) -> None:
    badge = copy.deepcopy(make_record(make_key(tmp_path), count=1).badges[0])
    badge["credentialSubject"]["achievement"]["name"] = "A grander achievement"
    verdict = dcc_verify(badge)
    assert verdict["verified"] is False
    assert [e["name"] for e in verdict["result"]["errors"]] == ["invalid_signature"], verdict


def test_dcc_rejects_a_clr_with_a_tampered_bundled_badge(tmp_path: Path) -> None:
    record = make_record(make_key(tmp_path), count=2)
    assert record.clr is not None
    clr = copy.deepcopy(record.clr)
    clr["credentialSubject"]["verifiableCredential"][1]["evidence"][0]["narrative"] = "Made up"
    assert dcc_verify(clr)["verified"] is False


def test_dcc_rejects_a_badge_signed_by_a_key_the_did_does_not_hold(tmp_path: Path) -> None:
    badge = copy.deepcopy(make_record(make_key(tmp_path / "a"), count=1).badges[0])
    other = make_key(tmp_path / "b")
    badge["issuer"]["id"] = other.did
    badge["proof"]["verificationMethod"] = other.verification_method
    assert dcc_verify(badge)["verified"] is False


def test_dcc_accepts_a_did_web_badge_with_the_did_document_we_serve(tmp_path: Path) -> None:
    key = make_key(tmp_path, did="did:web:lrs.example.org")
    badge = make_record(key, count=1).badges[0]
    document = {did_web_url(key.did): key.did_document()}
    assert dcc_verify(badge, document)["verified"] is True
    # Without the DID document it cannot get the key, and says so.
    verdict = dcc_verify(badge)
    assert verdict["verified"] is False
    assert did_web_url(key.did) in verdict["refused"]


def test_dcc_rejects_a_badge_with_a_property_outside_the_signature(tmp_path: Path) -> None:
    # As our verifier does (JSON-LD safe mode): an undefined term is not covered.
    badge = copy.deepcopy(make_record(make_key(tmp_path), count=1).badges[0])
    badge["credentialSubject"]["achievement"]["grade"] = "A+"
    verdict = dcc_verify(badge)
    assert verdict["verified"] is False
    assert [e["name"] for e in verdict["result"]["errors"]] == ["jsonld.ValidationError"]
