"""Routing (tags, defaults, overrides), quiet hours, group window and backoff, with fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.config.model import NotifySettings, Person, QuietHours
from agent.notify.routing import (
    InventoryRouter,
    Recipients,
    address_key,
    after_quiet,
    channel_of,
    in_quiet,
)
from agent.redaction import redact
from ticketing.outbox.types import EventFacts, RetryPolicy

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
NIGHT = QuietHours(time(22, 0), time(6, 0))
PEOPLE = (
    Person("Baiq Kasi", "kasi", apprise=("json://h/kasi", "mailto://h?to=k@x"), quiet_hours=NIGHT),
    Person("Hj Kabid", "kabid", apprise=("json://h/kabid",), quiet_hours=NIGHT),
    Person("Lalu Kadis", "kadis", apprise=("json://h/kadis",)),
    Person("Teknisi Satu", "teknisi", apprise=("tgram://bot/1",)),
    Person("PJ RSUD", "pj_opd", opd="RSUD Praya", apprise=("mailto://h?to=pj@x",)),
    Person("PJ Setda", "pj_opd", opd="Setda", apprise=("mailto://h?to=setda@x",)),
    Person("Tanpa Alamat", "kasi"),
)


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA).astimezone(UTC)


def facts(kind: str, at: datetime, **data: object) -> EventFacts:
    return EventFacts(kind, at, 1, "GJ/2026/0001", "rtr-rsud", "RSUD Praya", None, data)


def router(**settings: object) -> InventoryRouter:
    return InventoryRouter(Recipients(PEOPLE), NotifySettings(**settings), WITA)  # type: ignore[arg-type]


def who(plans) -> list[tuple[str, str]]:
    return [(p.recipient, p.channel) for p in plans]


def test_default_routes():
    r = router()
    noon = wita(2026, 11, 26, 12, 0)
    assert who(r.plan(facts("opened", noon))) == [
        ("Baiq Kasi", "json"),
        ("Baiq Kasi", "mailto"),
        ("PJ RSUD", "mailto"),  # the ticket's OPD only, not Setda
    ]
    assert who(r.plan(facts("escalated", noon, role="kabid"))) == [
        ("Baiq Kasi", "json"),
        ("Baiq Kasi", "mailto"),
        ("Hj Kabid", "json"),
    ]
    assert who(r.plan(facts("escalated", noon, role="kasi"))) == who(
        r.plan(facts("escalated", noon, role="kasi"))
    )
    assert [p.recipient for p in r.plan(facts("escalated", noon, role="kadis"))] == [
        "Baiq Kasi",
        "Baiq Kasi",
        "Lalu Kadis",
    ]
    assert who(r.plan(facts("assigned", noon, technician="Teknisi Satu"))) == [
        ("Teknisi Satu", "tgram")
    ]
    assert r.plan(facts("detached", noon)) == []
    assert r.plan(facts("cleared", noon)) == []


def test_overrides_and_tags():
    r = router(routes={"opened": ("kadis", "opd:Setda", "teknisi satu"), "resolved": ()})
    noon = wita(2026, 11, 26, 12, 0)
    assert [p.recipient for p in r.plan(facts("opened", noon))] == [
        "Lalu Kadis",
        "PJ Setda",
        "Teknisi Satu",
    ]
    assert r.plan(facts("resolved", noon)) == []
    assert router(enabled=False).plan(facts("opened", noon)) == []


def test_group_window_and_quiet_hours():
    r = router(group_window=timedelta(seconds=30))
    noon = wita(2026, 11, 26, 12, 0)
    plans = r.plan(facts("opened", noon))
    assert {p.due_at for p in plans} == {noon + timedelta(seconds=30)}
    assert {p.due_at for p in r.plan(facts("resolved", noon))} == {noon}
    late = wita(2026, 11, 26, 23, 15)
    due = {p.recipient: p.due_at for p in r.plan(facts("opened", late))}
    assert due == {"Baiq Kasi": wita(2026, 11, 27, 6, 0), "PJ RSUD": late + timedelta(seconds=30)}
    esc = r.plan(facts("escalated", late, role="kabid"))
    assert {p.due_at for p in esc} == {late}  # escalations ignore quiet hours
    assert all(p.urgent for p in esc)


@pytest.mark.parametrize(
    ("quiet", "local", "expected"),
    [
        (NIGHT, time(21, 59), False),
        (NIGHT, time(22, 0), True),
        (NIGHT, time(3, 0), True),
        (NIGHT, time(6, 0), False),
        (QuietHours(time(12, 0), time(13, 0)), time(12, 30), True),
        (QuietHours(time(12, 0), time(13, 0)), time(13, 0), False),
        (QuietHours(time(8, 0), time(8, 0)), time(8, 0), False),
    ],
)
def test_in_quiet(quiet, local, expected):
    assert in_quiet(local, quiet) is expected


def test_after_quiet():
    assert after_quiet(wita(2026, 11, 26, 2, 0), NIGHT, WITA) == wita(2026, 11, 26, 6, 0)
    assert after_quiet(wita(2026, 11, 26, 22, 30), NIGHT, WITA) == wita(2026, 11, 27, 6, 0)
    assert after_quiet(wita(2026, 11, 26, 7, 0), NIGHT, WITA) == wita(2026, 11, 26, 7, 0)
    assert after_quiet(wita(2026, 11, 26, 2, 0), None, WITA) == wita(2026, 11, 26, 2, 0)


def test_backoff():
    policy = RetryPolicy(initial=timedelta(seconds=30), maximum=timedelta(minutes=5))
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_addresses_never_keep_the_url():
    recipients = Recipients(PEOPLE)
    kasi = recipients.select("kasi")
    assert [p.name for p in kasi] == ["Baiq Kasi", "Tanpa Alamat"]
    assert recipients.addresses(kasi[1]) == []
    key = address_key("json://h/kasi")
    assert len(key) == 16
    assert "kasi" not in key
    assert recipients.address("Baiq Kasi", key).url == "json://h/kasi"
    assert recipients.address("Baiq Kasi", "gone") is None
    assert channel_of("MAILTOS://u:p@h") == "mailtos"
    assert "apprise" not in repr(PEOPLE[0])  # URLs carry tokens: not in reprs or logs


def test_redact_removes_url_parts():
    url = "tgram://123456:AAE-secret-token/987654"
    text = f"Failed to send to {url}: token AAE-secret-token rejected, chat 987654"
    out = redact(text, urls=[url])
    assert "secret" not in out
    assert "987654" not in out
    assert "rejected" in out
