"""The pure parts of the WhatsApp SOP: buttons per step, message shapes, photo types, config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent.chat.buttons import Choice, choices, interactive, template
from agent.chat.desk import as_complaint, command
from agent.chat.media import MediaError, checked, sniff
from agent.chat.signing import Action
from agent.config.load import load_inventory
from agent.errors import ConfigError
from agent.intake.handler import WaMessage
from collectors.model import utc_now
from ticketing.sop import bundled
from ticketing.workflow import Sifat

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit
LONG = "a-long-enough-secret-for-hmac"

SOP = bundled().get("gangguan-internet")


def test_each_step_offers_what_the_board_offers() -> None:
    dispose = choices(SOP.step(2), ["A"], Sifat.SEGERA)
    assert [(c.action, c.argument) for c in dispose] == [
        (Action.DISPOSISI, "segera"), (Action.DISPOSISI, "biasa"), (Action.ISI, "segera"),
    ]  # fmt: skip
    assign = choices(SOP.step(3), [f"Teknisi {i}" for i in range(14)], Sifat.BIASA)
    assert len(assign) == 10
    assert {c.action for c in assign} == {Action.TUGASKAN}
    assert [c.action for c in choices(SOP.step(4), [], Sifat.BIASA)] == [
        Action.SEDERHANA, Action.KOMPLEKS,
    ]  # fmt: skip
    assert [c.action for c in choices(SOP.step(5), [], Sifat.BIASA)] == [Action.SELESAI]


def test_three_buttons_or_a_list_within_whatsapp_limits() -> None:
    few = [(Choice("Setujui disposisi dengan isi panjang", Action.ISI), "id1")]
    msg = interactive("628", "x" * 5000, few)
    assert msg["interactive"]["type"] == "button"
    assert len(msg["interactive"]["body"]["text"]) == 1024
    assert len(msg["interactive"]["action"]["buttons"][0]["reply"]["title"]) == 20
    names = [(Choice("N" * 40, Action.TUGASKAN, "N"), f"id{i}") for i in range(12)]
    listed = interactive("628", "pilih", names)
    rows = listed["interactive"]["action"]["sections"][0]["rows"]
    assert listed["interactive"]["type"] == "list"
    assert len(rows) == 10
    assert all(len(r["title"]) <= 24 for r in rows)


def test_template_carries_parameters_on_one_line_and_the_button_payload() -> None:
    msg = template("628", "sigap_aksi", "id", ["GJ/2026/0001", "baris\nkedua\x00"], "sg1.x")
    body, button = msg["template"]["components"]
    assert [p["text"] for p in body["parameters"]] == ["GJ/2026/0001", "baris kedua"]
    assert button["sub_type"] == "quick_reply"
    assert button["parameters"] == [{"type": "payload", "payload": "sg1.x"}]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", None),
        (b"<svg onload=alert(1)>", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_photo_type_is_decided_by_magic_bytes(data: bytes, kind: str | None) -> None:
    found = sniff(data)
    assert (found[0] if found else None) == kind


def test_photo_over_the_cap_or_not_a_picture_is_refused() -> None:
    assert checked(b"\xff\xd8\xff" + b"x" * 10, 100, "f").filename == "f.jpg"
    with pytest.raises(MediaError, match="lebih dari"):
        checked(b"\xff\xd8\xff" + b"x" * 200, 100, "f")
    with pytest.raises(MediaError, match="bukan foto"):
        checked(b"MZ\x90\x00", 100, "f")


def test_commands_and_lapor() -> None:
    assert command("Status") == ("status", "")
    assert command("  lapor: internet mati\nsejak pagi") == ("lapor", "internet mati\nsejak pagi")
    assert command("selesai GJ/2026/0012 ok") == ("selesai", "GJ/2026/0012 ok")
    assert command("statusnya bagaimana") is None
    assert command("") is None
    wa = WaMessage("w", "628", "", "lapor printer mati", utc_now())
    assert as_complaint(wa).text == "printer mati"
    assert as_complaint(WaMessage("w", "628", "", "lapor", utc_now())).text == "lapor"


def test_a_short_action_secret_is_a_config_problem(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "office: {name: Diskominfo}\nhosts: {}\npeople: []\nintake:\n  whatsapp:\n"
        "    {verify_token_env: V, app_secret_env: S, access_token_env: T,\n"
        "     action_secret_env: A, phone_number_id: '1'}\n"
    )
    env = {"V": "v", "S": "s", "T": "t"}
    with pytest.raises(ConfigError) as info:
        load_inventory(path, env={**env, "A": "short"})
    assert any("shorter than 16 bytes" in p.message for p in info.value.problems)
    inventory = load_inventory(path, env={**env, "A": LONG})
    assert inventory.intake is not None
    assert inventory.intake.whatsapp is not None
    assert inventory.intake.whatsapp.action_secret == LONG


def test_both_webhook_hosts_get_the_actions_only_when_configured(tmp_path: Path) -> None:
    from agent.chat.actions import ChatActions
    from agent.wiring import chat_actions
    from ticketing.store import TicketStore

    path = tmp_path / "inventory.yaml"
    base = (
        "office: {name: Diskominfo}\nhosts: {}\npeople: []\nintake:\n  whatsapp:\n"
        "    {verify_token_env: V, app_secret_env: S, phone_number_id: '1'%s}\n"
    )
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "t.db"))
    env = {"V": "v", "S": "s", "T": "t", "A": LONG}
    for extra, wanted in (
        ("", False),  # no token, no secret
        (", access_token_env: T", False),  # replies, but no buttons
        (", access_token_env: T, action_secret_env: A", True),
    ):
        path.write_text(base % extra)
        inventory = load_inventory(path, env=env)
        built = chat_actions(inventory, store, utc_now)
        assert isinstance(built, ChatActions) is wanted, extra
    store.close()
