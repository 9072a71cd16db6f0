"""Signed WhatsApp action payloads: round trip, and forged / expired / other-step refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.chat.signing import (
    MAX_ID_CHARS,
    Action,
    ActionPayload,
    PayloadError,
    is_signed,
    sign,
    staleness,
    verify,
)
from tests.hostile_text import CORPUS

pytestmark = pytest.mark.unit

SECRET = b"server-secret-for-tests-0123456789"
HOLDER = "6281211112222"
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def payload(**kw: object) -> ActionPayload:
    base: dict[str, object] = {
        "number": "GJ/2026/0012",
        "step": 3,
        "action": Action.TUGASKAN,
        "version": 7,
        "expires": NOW + timedelta(hours=1),
        "argument": "Teknisi Satu. Dua/Tiga",
    }
    base.update(kw)
    return ActionPayload(**base)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field():
    p = payload()
    text = sign(SECRET, p, HOLDER)
    assert is_signed(text)
    assert len(text) <= MAX_ID_CHARS
    assert verify(SECRET, text, NOW, HOLDER) == p


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number", "GJ/2026/0013"),
        ("step", 4),
        ("action", Action.SELESAI),
        ("version", 8),
        ("argument", "Orang Lain"),
    ],
)
def test_changing_any_field_of_a_signed_id_is_forged(field, value):
    good = sign(SECRET, payload(), HOLDER)
    other = sign(SECRET, payload(**{field: value}), HOLDER)
    forged = ".".join(other.split(".")[:7] + good.split(".")[7:])
    with pytest.raises(PayloadError) as err:
        verify(SECRET, forged, NOW, HOLDER)
    assert err.value.reason == "forged"


def test_longer_expiry_or_other_secret_is_forged():
    good = sign(SECRET, payload(), HOLDER).split(".")
    good[6] = str(int(good[6]) + 86400)
    with pytest.raises(PayloadError, match="forged"):
        verify(SECRET, ".".join(good), NOW, HOLDER)
    with pytest.raises(PayloadError, match="forged"):
        verify(b"another-secret-of-the-same-size!!", sign(SECRET, payload(), HOLDER), NOW, HOLDER)


def test_the_same_id_tapped_from_another_phone_is_forged():
    text = sign(SECRET, payload(), HOLDER)
    with pytest.raises(PayloadError, match="forged"):
        verify(SECRET, text, NOW, "6281299998888")


def test_expired_payload_is_refused_at_and_after_expiry():
    text = sign(SECRET, payload(expires=NOW), HOLDER)
    with pytest.raises(PayloadError, match="expired"):
        verify(SECRET, text, NOW, HOLDER)
    assert verify(SECRET, text, NOW - timedelta(seconds=1), HOLDER).number == "GJ/2026/0012"


def test_other_step_and_stale_version():
    p = payload()
    assert staleness(p, step=3, version=7) is None
    assert staleness(p, step=4, version=7) == "other_step"
    assert staleness(p, step=None, version=7) == "other_step"
    assert staleness(p, step=3, version=8) == "stale"


HOSTILE = [
    None,
    42,
    ["sg1"],
    {"id": "sg1"},
    "",
    "sg1",
    "sg1." * 8,
    "sg1.a.b.c.d.e.f.g.h",
    "sg1.GJ%2F2026%2F0001.x.tugaskan.a.1.1.AAAA",
    "sg1." + "A" * 5000,
    "sg1.GJ.3.tugaskan.\u202e.7.1.mac",
    *(f"sg1.{h.text}.3.tugaskan.a.7.1.mac" for h in CORPUS),
    "sg1.%FF%FE.3.tugaskan.a.7.99999999999999999999.mac",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_ids_are_malformed_or_forged_never_a_crash(text):
    with pytest.raises(PayloadError) as err:
        verify(SECRET, text, NOW, HOLDER)
    assert err.value.reason in {"malformed", "forged"}


def test_weak_secret_and_oversized_id_refused():
    with pytest.raises(ValueError, match="secret"):
        sign(b"short", payload(), HOLDER)
    with pytest.raises(ValueError, match="too long"):
        sign(SECRET, payload(argument="x" * 300), HOLDER)
