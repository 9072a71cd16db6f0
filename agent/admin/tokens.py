"""Per-person API tokens: random, shown once, stored only as their sha256 (issue 21).

A token is ``sigap_`` + 43 URL-safe characters (256 random bits); a fast hash is enough for
a secret with that much entropy (no password-style stretching needed), and lets a request
find its token by an index lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

PREFIX: Final = "sigap_"
MAX_TOKEN: Final = 100  # longer Authorization values are refused before hashing


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The stored form of ``token`` (sha256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
