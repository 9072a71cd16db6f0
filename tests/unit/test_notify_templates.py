"""Message templates: bundled set valid and complete, office overrides validated with file and
line, chat short and e-mail full, every placeholder filled in Indonesian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.notify.config import notify_problems
from agent.notify.templates import (
    BUNDLED_DIR,
    REQUIRED,
    VARIABLES,
    Renderer,
    TemplateError,
    duration_text,
    load_templates,
    local_text,
)
from ticketing.outbox.types import MessageContext

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
OPENED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 WITA


def ctx(kind: str = "opened", channel: str = "json", **kw: object) -> MessageContext:
    base: dict[str, object] = {
        "ref": "sigap-7",
        "kind": kind,
        "recipient": "Baiq Kasi",
        "channel": channel,
        "at": OPENED,
        "number": "GJ/2026/0001",
        "device": "rtr-dist-praya",
        "opd": "Diskominfo",
        "summary": "Router rtr-dist-praya mati",
        "status": "open",
        "source": "agent",
        "opened_at": OPENED,
        "affected": tuple(f"sw-{i:02d}" for i in range(12)),
        "assignee": "Teknisi Satu",
        "step_label": "4",
        "step_role": "teknisi",
        "step_due": OPENED + timedelta(hours=1),
        "sop": "pemeliharaan",
        "detail": "Tiket dibuka: Router rtr-dist-praya mati",
    }
    base.update(kw)
    return MessageContext(**base)  # type: ignore[arg-type]


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(load_templates(), tz=WITA, now=OPENED + timedelta(minutes=65))


def test_bundled_templates_are_complete_and_valid():
    templates = load_templates()
    assert {f"{k}.{s}" for k in REQUIRED for s in ("chat", "email")} <= set(templates)
    for path in BUNDLED_DIR.glob("*.txt"):
        assert path.read_text(encoding="utf-8").startswith("Judul:"), path.name


def test_chat_is_short_and_email_is_full(renderer):
    chat = renderer(ctx())
    assert chat.title == "GANGGUAN GJ/2026/0001: rtr-dist-praya (Diskominfo)"
    assert "Sejak: 26/11/2026 10:00 WITA" in chat.body
    assert "Terdampak: 12 perangkat: sw-00, sw-01" in chat.body
    assert "sw-09, dan 2 lainnya" in chat.body
    assert "Teknisi: Teknisi Satu" in chat.body
    assert "tenggat 26/11/2026 11:00 WITA" in chat.body
    assert chat.body.rstrip().endswith("Ref: sigap-7")
    assert len(chat.body) < 500
    mail = renderer(ctx(channel="mailto"))
    assert mail.title == "[sigap] Gangguan GJ/2026/0001: rtr-dist-praya di Diskominfo"
    assert "Yth. Baiq Kasi," in mail.body
    assert "  - sw-11" in mail.body  # e-mail lists every device
    assert "teknisi Teknisi Satu ditugaskan" in mail.body
    assert "Rincian: sigap tiket show GJ/2026/0001" in mail.body
    assert "$" not in mail.body + chat.body


def test_every_kind_renders_without_leftovers(renderer):
    for kind in (*REQUIRED, "reopened", "recurred", "note"):
        for channel in ("json", "mailto"):
            text = renderer(ctx(kind, channel, data={"level": 2, "role": "kabid", "nth": 3}))
            assert text.title
            assert "$" not in text.title + text.body
            assert "sigap-7" in text.body


def test_escalation_names_the_role(renderer):
    text = renderer(ctx("escalated", data={"level": 2, "role": "kabid", "late_by_s": 5400}))
    assert text.title == "ESKALASI GJ/2026/0001 ke Kabid Kominfo"
    assert "Terlambat 1 jam 30 menit." in text.body


def test_link_replaces_the_command():
    r = Renderer(load_templates(), tz=WITA, link="https://sigap.test/tiket/{nomor}")
    assert "Lihat: https://sigap.test/tiket/GJ/2026/0001" in r(ctx()).body


def test_override_replaces_one_file_and_is_validated(tmp_path):
    (tmp_path / "opened.chat.txt").write_text("Judul: Baru $nomor\n\nIsi $perangkat\n")
    templates = load_templates(tmp_path)
    text = Renderer(templates, tz=WITA)(ctx())
    assert text.title == "Baru GJ/2026/0001"
    assert text.body == "Isi rtr-dist-praya\n"
    assert "resolved.chat" in templates  # the others stay bundled

    (tmp_path / "resolved.chat.txt").write_text("Judul: ok\n\nHalo $nmor dan $ perangkat\n")
    (tmp_path / "test.email.txt").write_text("Subjek tanpa judul\n")
    with pytest.raises(TemplateError) as err:
        load_templates(tmp_path)
    messages = [str(p) for p in err.value.problems]
    assert any("resolved.chat.txt line 3: invalid $ placeholder" in m for m in messages)
    assert any(
        "test.email.txt line 1: the first line must start with 'Judul:'" in m for m in messages
    )
    (tmp_path / "resolved.chat.txt").write_text("Judul: ok\n\nHalo $nmor\n")
    with pytest.raises(TemplateError, match=r"unknown placeholder \$nmor \(known: "):
        load_templates(tmp_path)


def test_inventory_check_reports_routes_and_templates(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "opened.chat.txt").write_text("Judul: x $salah\n\n")
    raw = {
        "people": [{"name": "Baiq Kasi", "role": "kasi"}],
        "notifications": {
            "routes": {"opened": ["kasi", "baiq kasi", "opd:RSUD"], "dibuka": ["bos"]},
            "templates_dir": "t",
        },
    }
    problems = notify_problems(raw, tmp_path)
    assert [p[0] for p in problems] == [
        ("routes", "dibuka"),
        ("routes", "dibuka", 0),
        ("templates_dir",),
    ]
    assert "unknown recipient 'bos'" in problems[1][1]
    assert "$salah" in problems[2][1]


def test_text_helpers():
    assert local_text(OPENED, WITA) == "26/11/2026 10:00 WITA"
    assert local_text(None, WITA) == "-"
    assert duration_text(40) == "40 detik"
    assert duration_text(3 * 86400 + 7260) == "3 hari 2 jam 1 menit"
    assert set(VARIABLES) >= {"nomor", "ref", "terdampak_daftar"}
