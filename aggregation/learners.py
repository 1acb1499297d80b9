"""Keyed, per-day learner hashes for the unique-learner sketches (DESIGN §4)."""

from __future__ import annotations

import hmac
import secrets

DAY_KEY_BYTES = 32
DIGEST_BYTES = 8


def new_day_key() -> bytes:
    """A fresh secret key for one day's learner hashes: 32 random bytes from `secrets`.

    Each day gets its own key, and the key is destroyed once the day closes. Without it
    nobody, the operator included, can recompute a person's digest for that day, so a
    closed day's registers cannot be tested for whether a given person was counted.
    A key drawn later, even for the same day, yields unrelated digests.
    """
    return secrets.token_bytes(DAY_KEY_BYTES)


def learner_digest(day_key: bytes, agent_key: str) -> bytes:
    """HMAC-SHA256(day_key, agent_key) truncated to 8 bytes, fed to `sketch.register_of`.

    `agent_key` is the actor's inverse functional identifier as one string
    (`statements.indexing.agent_key`). The digest is computed at ingest and never
    stored; only the (register, rank) it maps to is. A keyed hash rather than a plain one
    because identifiers are guessable (e-mail addresses, account names): with a plain
    hash anyone holding the registers could test a candidate. With the day's key
    destroyed once the day closes, that test is no longer possible. 64 bits is what the
    sketch needs (`sketch.estimate` has no 32-bit large-range correction).
    """
    return hmac.digest(day_key, agent_key.encode(), "sha256")[:DIGEST_BYTES]
