"""USM keys, digests and AES equal the RFC vectors and pysnmp's own services."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as _hlapi  # noqa: F401 - pysnmp's import order
from pysnmp.proto.secmod.eso.priv.aes256 import AesBlumenthal256
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc3414.auth.hmacsha import HmacSha
from pysnmp.proto.secmod.rfc3826.priv.aes import Aes
from pysnmp.proto.secmod.rfc7860.auth.hmacsha2 import HmacSha2

from collectors._snmp import usm_crypto as crypto

pytestmark = pytest.mark.unit

ENGINE_2 = bytes.fromhex("000000000000000000000002")
PYSNMP_AUTH = {"sha": HmacSha.SERVICE_ID, "sha256": HmacSha2.SHA256_SERVICE_ID}
PYSNMP_HASH = {"sha": hashlib.sha1, "sha256": hashlib.sha256}
PYSNMP_PRIV = {"aes128": Aes, "aes256": AesBlumenthal256}


def test_rfc3414_a3_2_sha_password_to_key_vector():
    ku = crypto.password_to_key(b"maplesyrup", "sha1")
    assert ku.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    kul = crypto.auth_key(b"maplesyrup", ENGINE_2, crypto.AUTH["sha"])
    assert kul.hex() == "6695febc9288e36282235fc7151f128497b38f3f"


def test_rfc3414_a3_1_md5_vector_checks_the_generic_algorithm():
    ku = crypto.password_to_key(b"maplesyrup", "md5")
    assert ku.hex() == "9faf3283884e92834ebc9847d8edd963"
    assert crypto.localize(ku, ENGINE_2, "md5").hex() == "526f5eed9fcce26f8964c2930787d82b"


def test_sha256_maplesyrup_vector():
    # The SHA-256 analogue of RFC 3414 A.3 published by SHA-2 USM implementations
    # (RFC 7860 itself has no vectors); pysnmp agrees (checked below).
    kul = crypto.auth_key(b"maplesyrup", ENGINE_2, crypto.AUTH["sha256"])
    assert kul.hex() == "8982e0e549e866db361a6b625d84cccc11162d453ee8ce3a6445c2d6776f0f8b"


passwords = st.binary(min_size=1, max_size=70)
engine_ids = st.binary(min_size=5, max_size=32)


@settings(max_examples=25, deadline=None)
@given(password=passwords, engine_id=engine_ids, auth=st.sampled_from(sorted(crypto.AUTH)))
def test_auth_keys_equal_pysnmp(password, engine_id, auth):
    theirs = localkey.password_to_key(password, univ.OctetString(engine_id), PYSNMP_HASH[auth])
    assert crypto.auth_key(password, engine_id, crypto.AUTH[auth]) == bytes(theirs)


@settings(max_examples=25, deadline=None)
@given(
    password=passwords,
    engine_id=engine_ids,
    auth=st.sampled_from(sorted(crypto.AUTH)),
    priv=st.sampled_from(sorted(crypto.PRIV)),
)
def test_priv_keys_equal_pysnmp_including_blumenthal_extension(password, engine_id, auth, priv):
    service = PYSNMP_PRIV[priv]()
    ku = service.hash_passphrase(PYSNMP_AUTH[auth], password)
    theirs = service.localize_key(PYSNMP_AUTH[auth], ku, univ.OctetString(engine_id))
    ours = crypto.priv_key(password, engine_id, crypto.AUTH[auth], crypto.PRIV[priv])
    assert ours == bytes(theirs)
    assert len(ours) == crypto.PRIV[priv].key_size


@given(
    key=st.binary(min_size=20, max_size=32),
    message=st.binary(min_size=30, max_size=600),
    auth=st.sampled_from(sorted(crypto.AUTH)),
)
def test_digests_equal_pysnmp_and_verify(key, message, auth):
    algorithm = crypto.AUTH[auth]
    service = HmacSha() if auth == "sha" else HmacSha2(HmacSha2.SHA256_SERVICE_ID)
    placeholder = bytes(algorithm.digest_size)
    whole = b"\x30" + placeholder + message  # pysnmp signs the first run of zeros
    signed = service.authenticate_outgoing_message(univ.OctetString(key), whole)
    mac = crypto.sign(key, algorithm, whole)
    assert bytes(signed) == b"\x30" + mac + message
    assert crypto.verify(key, algorithm, whole, mac)
    assert not crypto.verify(key, algorithm, whole, bytes(b ^ 1 for b in mac))


@given(
    key=st.binary(min_size=32, max_size=32),
    boots=st.integers(0, 2**31 - 1),
    time=st.integers(0, 2**31 - 1),
    plain=st.binary(max_size=500),
    priv=st.sampled_from(sorted(crypto.PRIV)),
)
def test_aes_cfb_equals_pysnmp_both_ways(key, boots, time, plain, priv):
    service = PYSNMP_PRIV[priv]()
    size = crypto.PRIV[priv].key_size
    cipher, salt = service.encrypt_data(univ.OctetString(key), (boots, time, None), plain)
    assert crypto.decrypt(key[:size], boots, time, bytes(salt), bytes(cipher)) == plain
    ours = crypto.encrypt(key[:size], boots, time, bytes(salt), plain)
    assert ours == bytes(cipher)
    back = service.decrypt_data(univ.OctetString(key), (boots, time, salt), univ.OctetString(ours))
    assert bytes(back) == plain


def test_bad_salt_and_empty_password_are_refused():
    with pytest.raises(ValueError, match="8"):
        crypto.decrypt(bytes(16), 0, 0, b"short", b"data")
    with pytest.raises(ValueError, match="empty"):
        crypto.password_to_key(b"", "sha1")
