"""Signing and verifying OB 3.0 and CLR 2.0 credentials (Data Integrity and VC-JWT)."""

from __future__ import annotations

import copy
import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lrs.vc import vcjwt
from lrs.vc.contexts import CLR_V2P0, OB_V3P0, VC_V2
from lrs.vc.dataintegrity import ProofError
from lrs.vc.issue import issue_record, sign
from lrs.vc.keys import IssuerKeyError, did_key_for, load_issuer_key
from lrs.vc.verify import did_web_url, resolver, verify_credential
from tests.lrs.vc.factories import LEARNER, NOW, make_key, make_objective, make_record

RESOLVE = resolver()


def test_issue_badge_is_an_ob3_credential_aligned_to_the_case_item(tmp_path: Path) -> None:
    record = make_record(make_key(tmp_path), count=1)
    badge = record.badges[0]
    assert badge["@context"] == [VC_V2, OB_V3P0]
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    subject = badge["credentialSubject"]
    assert subject["id"] == LEARNER and subject["type"] == ["AchievementSubject"]
    alignment = subject["achievement"]["alignment"][0]
    assert alignment["targetUrl"] == "https://case.example.org/uri/objective-0"
    assert alignment["targetType"] == "CFItem" and alignment["targetCode"] == "SSC.1.2"
    narratives = [item.get("narrative", "") for item in badge["evidence"]]
    assert any("inducted six contractors" in text for text in narratives)
    assert any("Max Manager" in text for text in narratives)
    assert badge["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_issue_clr_bundles_every_badge(tmp_path: Path) -> None:
    record = make_record(make_key(tmp_path), count=3)
    assert record.clr is not None
    assert record.clr["@context"] == [VC_V2, CLR_V2P0, OB_V3P0]
    assert record.clr["credentialSubject"]["verifiableCredential"] == record.badges


def test_issue_only_met_objectives_get_a_badge(tmp_path: Path) -> None:
    objectives = [make_objective(outcome="not-yet"), make_objective(iri="urn:x:2")]
    record = issue_record(objectives, LEARNER, "Lea", make_key(tmp_path), "Org", NOW)
    assert len(record.badges) == 1
    nothing = issue_record([make_objective(outcome="not-yet")], LEARNER, "L", make_key(tmp_path),
                           "Org", NOW)
    assert nothing.badges == [] and nothing.clr is None


async def test_verify_accepts_badges_and_clr_in_both_proof_forms(tmp_path: Path) -> None:
    key = make_key(tmp_path)
    record = make_record(key)
    assert record.clr is not None and record.clr_jwt is not None
    for badge, token in zip(record.badges, record.badge_jwts, strict=True):
        assert (await verify_credential(badge, RESOLVE)).issuer == key.did
        verified = await verify_credential(token, RESOLVE)
        assert verified.proofs == ("vc-jwt", "eddsa-rdfc-2022")
        assert verified.credential == badge
    clr = await verify_credential(record.clr, RESOLVE)
    assert [n.credential for n in clr.nested] == record.badges
    assert (await verify_credential(record.clr_jwt, RESOLVE)).credential == record.clr


async def test_verify_a_clr_of_many_badges_past_joserfc_default_payload_size(
        tmp_path: Path) -> None:
    record = make_record(make_key(tmp_path), count=40)
    assert record.clr_jwt is not None and len(record.clr_jwt) > 128_000
    clr = await verify_credential(record.clr_jwt, RESOLVE)
    assert clr.credential == record.clr and len(clr.nested) == 40


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


TAMPERS = [
    ("name", _set(["name"], "Something else"), "$.proof.proofValue"),
    ("learner", _set(["credentialSubject", "id"], "mailto:x@example.org"), "$.proof.proofValue"),
    ("alignment", _set(["credentialSubject", "achievement", "alignment", 0, "targetUrl"],
                       "https://case.example.org/uri/other"), "$.proof.proofValue"),
    ("evidence", _set(["evidence", 0, "narrative"], "Never happened"), "$.proof.proofValue"),
    ("proof date", _set(["proof", "created"], "2030-01-01T00:00:00Z"), "$.proof.proofValue"),
    ("signature", _set(["proof", "proofValue"], "z" + "1" * 87), "$.proof.proofValue"),
    ("issuer", _set(["issuer", "id"], "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"),
     "$.proof"),
    ("cryptosuite", _set(["proof", "cryptosuite"], "ecdsa-rdfc-2019"), "$.proof.cryptosuite"),
    ("context", _set(["@context"], ["https://www.w3.org/2018/credentials/v1"]), "$.@context"),
]


@pytest.mark.parametrize(("what", "change", "path"), TAMPERS, ids=[t[0] for t in TAMPERS])
async def test_verify_refuses_a_tampered_badge_naming_where(
    tmp_path: Path, what: str, change: Callable[[dict[str, Any]], None], path: str
) -> None:
    badge = copy.deepcopy(make_record(make_key(tmp_path), count=1).badges[0])
    change(badge)
    with pytest.raises(ProofError) as raised:
        await verify_credential(badge, RESOLVE)
    assert raised.value.path == path


async def test_verify_refuses_a_badge_signed_by_another_key_under_our_did(tmp_path: Path) -> None:
    key = make_key(tmp_path / "a")
    other = make_key(tmp_path / "b")
    badge = make_record(key, count=1).badges[0]
    forged = sign(badge, other, NOW)
    forged["proof"]["verificationMethod"] = key.verification_method
    with pytest.raises(ProofError, match="does not match"):
        await verify_credential(forged, RESOLVE)


async def test_verify_refuses_a_tampered_jwt_and_a_mismatched_claim(tmp_path: Path) -> None:
    key = make_key(tmp_path)
    token = make_record(key, count=1).badge_jwts[0]
    head, body, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(ProofError, match="VC-JWT signature"):
        await verify_credential(f"{head}.{body}.{flipped}", RESOLVE)
    claims = vcjwt.claims_for(make_record(key, count=1).badges[0])
    claims["sub"] = "mailto:someone-else@example.org"
    from joserfc import jwt  # the same library, to forge a well-signed but wrong token

    forged = jwt.encode({"alg": "Ed25519", "kid": key.verification_method}, claims,
                        vcjwt._okp(key.private_key), algorithms=["Ed25519"])
    with pytest.raises(ProofError) as raised:
        await verify_credential(forged, RESOLVE)
    assert raised.value.path == "$.sub"


async def test_verify_refuses_a_credential_not_yet_or_no_longer_valid(tmp_path: Path) -> None:
    badge = make_record(make_key(tmp_path), count=1).badges[0]
    with pytest.raises(ProofError) as raised:
        await verify_credential(badge, RESOLVE, now=NOW - timedelta(days=30))
    assert raised.value.path == "$.validFrom"


async def test_verify_did_web_needs_a_client_and_names_the_did(tmp_path: Path) -> None:
    key = make_key(tmp_path, did="did:web:lrs.example.org")
    badge = make_record(key, count=1).badges[0]
    assert badge["issuer"]["id"] == "did:web:lrs.example.org"
    with pytest.raises(ProofError, match=r"did:web:lrs\.example\.org"):
        await verify_credential(badge, RESOLVE)


def test_did_web_url_follows_the_did_web_method() -> None:
    assert did_web_url("did:web:example.org") == "https://example.org/.well-known/did.json"
    assert did_web_url("did:web:example.org%3A8443:lrs") == "https://example.org:8443/lrs/did.json"


def test_key_generated_once_in_the_data_dir_readable_by_owner_only(tmp_path: Path) -> None:
    first = load_issuer_key(None, None, tmp_path)
    again = load_issuer_key(None, None, tmp_path)
    assert first.did == again.did and first.did.startswith("did:key:z6Mk")
    mode = stat.S_IMODE((tmp_path / "vc-issuer-key.pem").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["vc-issuer-key.pem"]


def test_key_made_by_workers_at_once_is_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        dids = set(pool.map(lambda _: load_issuer_key(None, None, tmp_path).did, range(16)))
    assert len(dids) == 1


def test_key_from_configuration_as_pem_or_seed() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    import base64

    b64 = base64.urlsafe_b64encode(seed).decode().rstrip("=")
    for text in (pem, b64):
        assert load_issuer_key(text, None, Path("/nonexistent")).did == did_key_for(key)


@pytest.mark.parametrize(("key", "did", "message"), [
    ("not a key", None, "LRS_VC_ISSUER_KEY"),
    (None, "did:example:123", "LRS_VC_ISSUER_DID"),
])
def test_key_bad_configuration_names_the_setting(
    tmp_path: Path, key: str | None, did: str | None, message: str
) -> None:
    with pytest.raises(IssuerKeyError, match=message):
        load_issuer_key(key, did, tmp_path)


UNDEFINED = [
    (["extra"], "$.extra"),
    (["credentialSubject", "achievement", "extra"], "$.credentialSubject.achievement.extra"),
    (["evidence", 0, "extra"], "$.evidence[0].extra"),
    (["@extra"], "$.@extra"),
]


@pytest.mark.parametrize(("where", "path"), UNDEFINED, ids=[p for _, p in UNDEFINED])
async def test_verify_refuses_a_property_outside_the_signature_naming_it(
    tmp_path: Path, where: list[Any], path: str
) -> None:
    # VC 2.0's context defines no @vocab: an undefined term would drop out of the canonical
    # form, so the proof would still verify with it added; safe mode refuses it instead.
    badge = copy.deepcopy(make_record(make_key(tmp_path), count=1).badges[0])
    _set(where, "not signed")(badge)
    with pytest.raises(ProofError, match="safe mode") as raised:
        await verify_credential(badge, RESOLVE)
    assert raised.value.path == path


def test_sign_refuses_a_credential_with_an_undefined_property(tmp_path: Path) -> None:
    key = make_key(tmp_path)
    badge = {k: v for k, v in make_record(key, count=1).badges[0].items() if k != "proof"}
    with pytest.raises(ProofError, match="safe mode"):
        sign({**badge, "undefinedTerm": 1}, key, NOW)


@pytest.mark.parametrize("did", ["did:web:127.0.0.1", "did:web:localhost%3A8000",
                                 "did:web:%5B%3A%3A1%5D", "did:web:intranet",
                                 "did:web:db.internal", "did:web:printer.local"])
async def test_verify_never_fetches_a_did_web_on_a_local_host(tmp_path: Path, did: str) -> None:
    import httpx2

    badge = make_record(make_key(tmp_path, did=did), count=1).badges[0]
    async with httpx2.AsyncClient() as client:  # would reach the network if it were asked
        with pytest.raises(ProofError, match="not fetched"):
            await verify_credential(badge, resolver(client))


async def test_verify_a_vc_jwt_without_a_data_integrity_proof(tmp_path: Path) -> None:
    key = make_key(tmp_path)
    badge = {k: v for k, v in make_record(key, count=1).badges[0].items() if k != "proof"}
    verified = await verify_credential(vcjwt.encode(badge, key.private_key,
                                                    key.verification_method), RESOLVE)
    assert verified.proofs == ("vc-jwt",) and verified.credential == badge
    old_style = {**badge, "@context": ["https://www.w3.org/2018/credentials/v1"]}
    with pytest.raises(ProofError) as raised:
        await verify_credential(vcjwt.encode(old_style, key.private_key,
                                             key.verification_method), RESOLVE)
    assert raised.value.path == "$.@context"
