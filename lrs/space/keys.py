"""Whose a space is (the owner key) and the server's key-encryption key (LRS_SPACE_KEY)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from lrs.config import Settings
from lrs.space import NoAgent
from lrs.space.crypto import derive_kek
from statements.erasure import canonical_key
from statements.indexing import agent_key

log = logging.getLogger("lrs.space")
KEY_FILE = "space.key"  # in the data directory, when LRS_SPACE_KEY is unset


def owner_key(agent: dict[str, Any] | None) -> str:
    """The owner key of the learner with this xAPI agent: its agent key in the canonical
    form the erasure audit uses (an mbox as its mbox_sha1sum, Data §2.4.2.3), so that
    forgetting the person by any of their identifiers finds their space."""
    key = agent_key(agent) if agent is not None else None
    if key is None:
        raise NoAgent()
    return canonical_key(key)


def key_encryption_key(settings: Settings, engine: str) -> tuple[bytes, str]:
    """The key-encryption key and its id: from LRS_SPACE_KEY, else from `space.key` in the
    data directory, made once (random, mode 0600) when missing.

    Without LRS_SPACE_KEY on MongoDB, each host would make a key of its own and none could
    open another's spaces: it works for one host and says so in the log.
    """
    if settings.space_key is not None:
        return derive_kek(settings.space_key.get_secret_value().encode())
    if engine != "sqlite":
        log.warning("LRS_SPACE_KEY is unset: the spaces' key-encryption key is in %s on this "
                    "host only; set LRS_SPACE_KEY when several hosts share the store",
                    settings.data_dir / KEY_FILE)
    return derive_kek(_key_file(settings.data_dir / KEY_FILE))


def _key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together make one key, not two.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
    secret = path.read_text().strip()
    if len(secret) < 32:  # a file another process is still writing, or truncated
        raise RuntimeError(f"{path} holds no key: delete it only if no space exists yet")
    return secret.encode()
