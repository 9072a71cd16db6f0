"""USM keys, digests and privacy for the v3 fast path (RFC 3414, RFC 3826, RFC 7860).

Keys: password-to-key (RFC 3414 A.2: hash of the password repeated to 1 MB), localised to
the authoritative engine id (``H(Ku || engineID || Ku)``). Privacy keys for AES-256 are
extended the Blumenthal way (``Kul || H(Kul)``, net-snmp's and pysnmp's
``usmAesBlumenthalCfb256Protocol``). Both steps are cached: the 1 MB hash costs milliseconds.
Proven equal to pysnmp's own functions and the RFC vectors by ``tests/unit/test_usm_*.py``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

PASSWORD_EXPANSION: Final = 1_048_576  # RFC 3414 A.2.1: one megabyte of repeated password
SALT_SIZE: Final = 8


@dataclass(frozen=True, slots=True)
class AuthAlgorithm:
    """An HMAC authentication protocol: hash name and truncated digest length."""

    name: str
    hash_name: str
    digest_size: int


@dataclass(frozen=True, slots=True)
class PrivAlgorithm:
    """An AES-CFB-128 privacy protocol: key length in bytes."""

    name: str
    key_size: int


AUTH: Final = {
    "sha": AuthAlgorithm("sha", "sha1", 12),  # usmHMACSHAAuthProtocol, HMAC-SHA-96
    "sha256": AuthAlgorithm("sha256", "sha256", 24),  # usmHMAC192SHA256AuthProtocol
}
PRIV: Final = {
    "aes128": PrivAlgorithm("aes128", 16),  # usmAesCfb128Protocol (RFC 3826)
    "aes256": PrivAlgorithm("aes256", 32),  # Blumenthal draft, as net-snmp's AES-256
}


@lru_cache(maxsize=256)
def password_to_key(password: bytes, hash_name: str) -> bytes:
    """Return Ku: the hash of ``password`` repeated to 1 MB (RFC 3414 A.2)."""
    if not password:
        raise ValueError("an empty USM password has no key")
    repeated = password * (PASSWORD_EXPANSION // len(password) + 1)
    return hashlib.new(hash_name, repeated[:PASSWORD_EXPANSION]).digest()


def localize(key: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """Return Kul = H(Ku || engineID || Ku) (RFC 3414 A.2)."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


@lru_cache(maxsize=1024)
def auth_key(password: bytes, engine_id: bytes, auth: AuthAlgorithm) -> bytes:
    """Return the localised authentication key for ``password`` at ``engine_id``."""
    return localize(password_to_key(password, auth.hash_name), engine_id, auth.hash_name)


@lru_cache(maxsize=1024)
def priv_key(password: bytes, engine_id: bytes, auth: AuthAlgorithm, priv: PrivAlgorithm) -> bytes:
    """Return the AES key: localised with the auth hash, extended Blumenthal-style if short."""
    key = localize(password_to_key(password, auth.hash_name), engine_id, auth.hash_name)
    while len(key) < priv.key_size:
        key += hashlib.new(auth.hash_name, key).digest()
    return key[: priv.key_size]


def sign(key: bytes, auth: AuthAlgorithm, whole: bytes) -> bytes:
    """Return the truncated HMAC of a whole message (auth params zeroed)."""
    return hmac.digest(key, whole, auth.hash_name)[: auth.digest_size]


def verify(key: bytes, auth: AuthAlgorithm, zeroed: bytes, received: bytes) -> bool:
    """True when ``received`` is the HMAC of ``zeroed`` (constant-time compare)."""
    return hmac.compare_digest(sign(key, auth, zeroed), received)


def _iv(boots: int, time: int, salt: bytes) -> bytes:
    """RFC 3826 3.1.2.1: IV = engineBoots(4) || engineTime(4) || salt(8)."""
    return boots.to_bytes(4, "big") + time.to_bytes(4, "big") + salt


def encrypt(key: bytes, boots: int, time: int, salt: bytes, plain: bytes) -> bytes:
    """AES-CFB-128 encrypt a ScopedPDU (RFC 3826 3.3.1)."""
    encryptor = Cipher(algorithms.AES(key), CFB(_iv(boots, time, salt))).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


def decrypt(key: bytes, boots: int, time: int, salt: bytes, cipher: bytes) -> bytes:
    """AES-CFB-128 decrypt an encryptedPDU (RFC 3826 3.3.2); the salt must be 8 bytes."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"privacy parameters are {len(salt)} bytes, not {SALT_SIZE}")
    decryptor = Cipher(algorithms.AES(key), CFB(_iv(boots, time, salt))).decryptor()
    return decryptor.update(cipher) + decryptor.finalize()
