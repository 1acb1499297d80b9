"""The ciphers of a space, all from `cryptography`: AES-256-GCM, HPKE (RFC 9180) over X25519,
scrypt for passphrases, HKDF for the server's key-encryption key. Nothing hand-rolled.

Formats (a two-byte tag first, so a format can change without guessing):
- `K1` nonce(12) ct: a data key wrapped by the key-encryption key (AES-256-GCM).
- `E1` nonce(12) ct: a blob under a space's data key (AES-256-GCM), envelope mode.
- `S1` enc(32) ct: a blob sealed to a space's public key, HPKE base mode
  (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM), sealed mode.
- `P1` log2(n) r p salt(16) nonce(12) ct: a secret wrapped by a passphrase or recovery code
  (scrypt → AES-256-GCM).
Every blob's space id, blob id and kind are bound in (GCM associated data, HPKE info), and
its plaintext is padded to a multiple of `PAD` bytes so its size says little.
"""

from __future__ import annotations

import base64
import secrets
import struct
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from lrs.space import Tampered

PAD = 1024
SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
# scrypt cost: 128 B * 2^15 * 8 = 32 MiB and ~0.1 s per try (RFC 7914 §2's interactive
# guidance); kept in each wrapped secret, so it can be raised without breaking old ones.
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
MIN_PASSPHRASE = 10


class BadSecret(ValueError):
    """A passphrase or recovery code that does not unwrap the secret."""


def new_data_key() -> bytes:
    """A random 256-bit AES key."""
    return AESGCM.generate_key(bit_length=256)


def derive_kek(secret: bytes) -> tuple[bytes, str]:
    """The key-encryption key derived from the configured secret (HKDF-SHA256), and its id
    (a second derivation, safe to store) to tell which secret wrapped a data key."""
    kek = HKDF(hashes.SHA256(), 32, None, b"tally-lrs space key-encryption key").derive(secret)
    kek_id = HKDF(hashes.SHA256(), 8, None, b"tally-lrs space key id").derive(secret).hex()
    return kek, kek_id


def wrap_data_key(kek: bytes, data_key: bytes, space: str) -> bytes:
    """`data_key` encrypted under the key-encryption key, bound to the space."""
    nonce = secrets.token_bytes(12)
    return b"K1" + nonce + AESGCM(kek).encrypt(nonce, data_key, _bound("dek", space))


def unwrap_data_key(kek: bytes, wrapped: bytes, space: str) -> bytes:
    """The inverse of `wrap_data_key`; Tampered when it does not authenticate."""
    if wrapped[:2] != b"K1":
        raise Tampered(f"space {space}: unknown data key format")
    try:
        return AESGCM(kek).decrypt(wrapped[2:14], wrapped[14:], _bound("dek", space))
    except InvalidTag:
        raise Tampered(f"space {space}: the key-encryption key (LRS_SPACE_KEY) does not "
                       "unwrap its data key: another key, or the keyring was changed") from None


def encrypt_blob(data_key: bytes, plaintext: bytes, *, space: str, blob_id: str,
                 kind: str) -> bytes:
    """A blob for an envelope space: AES-256-GCM under its data key."""
    nonce = secrets.token_bytes(12)
    return b"E1" + nonce + AESGCM(data_key).encrypt(nonce, _pad(plaintext),
                                                    _bound(kind, space, blob_id))


def seal_blob(public_key: bytes, plaintext: bytes, *, space: str, blob_id: str,
              kind: str) -> bytes:
    """A blob for a sealed space: HPKE to its public key. The server can write it; only the
    private key opens it."""
    recipient = X25519PublicKey.from_public_bytes(public_key)
    return b"S1" + SUITE.encrypt(_pad(plaintext), recipient, info=_bound(kind, space, blob_id))


def open_blob(ciphertext: bytes, *, space: str, blob_id: str, kind: str,
              data_key: bytes | None = None,
              private_key: X25519PrivateKey | None = None) -> bytes:
    """The plaintext of a blob of either format, given the key it needs; Tampered when the
    ciphertext (or its space, id or kind) was changed, or the key is not the one."""
    bound = _bound(kind, space, blob_id)
    tag = ciphertext[:2]
    try:
        if tag == b"E1" and data_key is not None:
            padded = AESGCM(data_key).decrypt(ciphertext[2:14], ciphertext[14:], bound)
        elif tag == b"S1" and private_key is not None:
            padded = SUITE.decrypt(ciphertext[2:], private_key, info=bound)
        else:
            raise Tampered(f"space {space}, blob {blob_id}: no key for format {tag!r}")
    except (InvalidTag, ValueError) as exc:
        if isinstance(exc, Tampered):
            raise
        raise Tampered(f"space {space}, blob {blob_id}: the ciphertext does not "
                       "authenticate (changed at rest, or another key)") from None
    return _unpad(padded, space, blob_id)


def new_key_pair() -> tuple[X25519PrivateKey, bytes]:
    """A fresh X25519 key pair: the private key and the raw public key."""
    private = X25519PrivateKey.generate()
    return private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_bytes(key: X25519PrivateKey) -> bytes:
    """The raw 32 bytes of a private key (to wrap it)."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def private_key(raw: bytes) -> X25519PrivateKey:
    """A private key from its raw bytes."""
    return X25519PrivateKey.from_private_bytes(raw)


def wrap_secret(secret: bytes, passphrase: str, context: str) -> bytes:
    """`secret` encrypted under a key scrypt derives from `passphrase` (normalised to NFC, so
    the same words typed on another keyboard give the same key)."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = _scrypt(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    header = b"P1" + struct.pack(">BBB", SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return header + salt + nonce + AESGCM(key).encrypt(nonce, secret, header + context.encode())


def unwrap_secret(wrapped: bytes, passphrase: str, context: str) -> bytes:
    """The inverse of `wrap_secret`; BadSecret when the passphrase is not the one (or the
    wrapped secret was changed: AES-GCM cannot tell the two apart, and need not)."""
    if wrapped[:2] != b"P1" or len(wrapped) < 5 + 16 + 12 + 16:
        raise Tampered("a wrapped secret has an unknown format")
    log2_n, r, p = struct.unpack(">BBB", wrapped[2:5])
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise Tampered("a wrapped secret asks for unreasonable scrypt costs")
    salt, nonce, ciphertext = wrapped[5:21], wrapped[21:33], wrapped[33:]
    key = _scrypt(passphrase, salt, log2_n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, wrapped[:5] + context.encode())
    except InvalidTag:
        raise BadSecret("the passphrase does not unwrap this secret") from None


def new_recovery_code() -> str:
    """A one-time recovery code: 160 random bits as 32 base32 letters in groups of four."""
    letters = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(letters[i:i + 4] for i in range(0, len(letters), 4))


def normal_recovery_code(code: str) -> str:
    """A recovery code as typed (any case, with or without dashes or spaces) in its one form."""
    letters = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(letters[i:i + 4] for i in range(0, len(letters), 4))


def _scrypt(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    data = unicodedata.normalize("NFC", passphrase).encode()
    return Scrypt(salt=salt, length=32, n=2 ** log2_n, r=r, p=p).derive(data)


def _bound(kind: str, space: str, blob_id: str = "") -> bytes:
    return f"tally-lrs/space/v1/{kind}/{space}/{blob_id}".encode()


def _pad(plaintext: bytes) -> bytes:
    framed = struct.pack(">I", len(plaintext)) + plaintext
    return framed + bytes(-len(framed) % PAD)


def _unpad(padded: bytes, space: str, blob_id: str) -> bytes:
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4:
        raise Tampered(f"space {space}, blob {blob_id}: a bad length in the plaintext")
    return padded[4:4 + length]
