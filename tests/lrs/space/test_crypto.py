"""The space's ciphers (lrs.space.crypto): round trips, and clear errors for a wrong
passphrase, a tampered ciphertext, a blob moved to another space, id or kind."""

from __future__ import annotations

import pytest

from lrs.space import Tampered
from lrs.space import crypto as c

SPACE = "11111111-2222-3333-4444-555555555555"


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_crypto_data_key_wraps_and_unwraps_under_the_kek() -> None:
    kek, kek_id = c.derive_kek(b"x" * 40)
    assert len(kek) == 32 and kek_id == c.derive_kek(b"x" * 40)[1] != c.derive_kek(b"y" * 40)[1]
    data_key = c.new_data_key()
    wrapped = c.wrap_data_key(kek, data_key, SPACE)
    assert data_key not in wrapped
    assert c.unwrap_data_key(kek, wrapped, SPACE) == data_key


@pytest.mark.parametrize("change", ["other kek", "other space", "tampered"])
def test_crypto_data_key_unwrap_fails_clearly(change: str) -> None:
    kek, _ = c.derive_kek(b"x" * 40)
    wrapped = c.wrap_data_key(kek, c.new_data_key(), SPACE)
    other_kek, _ = c.derive_kek(b"z" * 40)
    with pytest.raises(Tampered, match="LRS_SPACE_KEY"):
        c.unwrap_data_key(other_kek if change == "other kek" else kek,
                          flip(wrapped, 20) if change == "tampered" else wrapped,
                          "another" if change == "other space" else SPACE)


def test_crypto_envelope_blob_round_trips_and_is_padded() -> None:
    key = c.new_data_key()
    sealed = c.encrypt_blob(key, b"what I learned", space=SPACE, blob_id="b", kind="entry")
    assert b"learned" not in sealed
    assert len(sealed) == 2 + 12 + c.PAD + 16  # one padded block, whatever the length
    assert len(c.encrypt_blob(key, b"x" * 900, space=SPACE, blob_id="b", kind="entry")) \
        == len(sealed)
    assert c.open_blob(sealed, space=SPACE, blob_id="b", kind="entry", data_key=key) \
        == b"what I learned"


def test_crypto_sealed_blob_opens_only_with_the_private_key() -> None:
    private, public = c.new_key_pair()
    sealed = c.seal_blob(public, b"sealed words", space=SPACE, blob_id="b", kind="entry")
    assert c.open_blob(sealed, space=SPACE, blob_id="b", kind="entry",
                       private_key=private) == b"sealed words"
    other, _ = c.new_key_pair()
    with pytest.raises(Tampered, match="does not authenticate"):
        c.open_blob(sealed, space=SPACE, blob_id="b", kind="entry", private_key=other)
    with pytest.raises(Tampered, match="no key"):  # the server's data key cannot open it
        c.open_blob(sealed, space=SPACE, blob_id="b", kind="entry",
                    data_key=c.new_data_key())


@pytest.mark.parametrize("sealed_mode", [False, True])
@pytest.mark.parametrize("change", ["byte", "space", "id", "kind", "truncated"])
def test_crypto_blob_changed_at_rest_is_tampered(sealed_mode: bool, change: str) -> None:
    private, public = c.new_key_pair()
    key = c.new_data_key()
    blob = (c.seal_blob(public, b"text", space=SPACE, blob_id="b", kind="entry") if sealed_mode
            else c.encrypt_blob(key, b"text", space=SPACE, blob_id="b", kind="entry"))
    where = {"space": SPACE, "blob_id": "b", "kind": "entry"}
    if change == "byte":
        blob = flip(blob, len(blob) - 40)
    elif change == "truncated":
        blob = blob[:-1]
    else:
        where[{"space": "space", "id": "blob_id", "kind": "kind"}[change]] = "moved"
    with pytest.raises(Tampered):
        c.open_blob(blob, data_key=key, private_key=private, **where)


def test_crypto_secret_wrapped_by_a_passphrase() -> None:
    secret = b"\x07" * 32
    wrapped = c.wrap_secret(secret, "correct horse battery", "ctx")
    assert secret not in wrapped
    assert c.unwrap_secret(wrapped, "correct horse battery", "ctx") == secret
    with pytest.raises(c.BadSecret, match="passphrase does not unwrap"):
        c.unwrap_secret(wrapped, "correct horse batterx", "ctx")
    with pytest.raises(c.BadSecret):  # bound to its context
        c.unwrap_secret(wrapped, "correct horse battery", "other ctx")
    with pytest.raises(c.BadSecret):  # a changed byte is indistinguishable from a wrong key
        c.unwrap_secret(flip(wrapped, len(wrapped) - 3), "correct horse battery", "ctx")
    with pytest.raises(Tampered, match="unknown format"):
        c.unwrap_secret(b"XX" + wrapped[2:], "correct horse battery", "ctx")


def test_crypto_passphrase_is_normalised_to_nfc() -> None:
    wrapped = c.wrap_secret(b"s", "caf\u00e9 au lait!", "ctx")  # é precomposed
    assert c.unwrap_secret(wrapped, "cafe\u0301 au lait!", "ctx") == b"s"  # e + accent


def test_crypto_recovery_codes_are_random_and_normalised() -> None:
    code = c.new_recovery_code()
    assert len(code) == 39 and code.count("-") == 7 and code != c.new_recovery_code()
    typed = code.lower().replace("-", " ")
    assert c.normal_recovery_code(typed) == code
