"""The buttons of a SOP step and the Cloud API messages that carry them (pure, no I/O).

Each active step offers its performer the actions the board offers, as WhatsApp reply
buttons (at most 3) or a list (at most 10 rows): a disposition with the standing sifat or a
typed isi, the Kasi's choice of technician, the technician's sederhana / kompleks, and
"selesai" for the other steps. "Lihat detail" is the board link in the text (a reply button
cannot open a URL). Inside the 24-hour window the message is interactive; outside it, the
approved template (``intake.whatsapp.action_template``: body parameters nomor, ringkasan,
langkah, tenggat and one quick-reply button) whose button opens these same buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from agent.chat.signing import Action
from agent.notify.whatsapp import message, template_message, text_payload
from ticketing.sop import StepKind
from ticketing.storable import line
from ticketing.workflow import Sifat

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ticketing.sop import SopStep

BUTTONS_MAX: Final = 3
ROWS_MAX: Final = 10
BUTTON_TITLE_MAX: Final = 20
ROW_TITLE_MAX: Final = 24
ROW_DESCRIPTION_MAX: Final = 72
BODY_MAX: Final = 1024  # interactive body text
PARAM_MAX: Final = 300
LIST_BUTTON: Final = "Pilih tindakan"


@dataclass(frozen=True, slots=True)
class Choice:
    """One button: its text, and the signed action behind it."""

    title: str
    action: Action
    argument: str = ""
    description: str = ""


def choices(step: SopStep, technicians: Sequence[str], sifat: Sifat) -> list[Choice]:
    """What the performer of ``step`` may do from the chat (``sifat``: the standing one)."""
    if step.decision:
        return [
            Choice("Sederhana", Action.SEDERHANA, description="langsung ditangani"),
            Choice("Kompleks", Action.KOMPLEKS, description="masuk program kegiatan"),
        ]
    if step.kind is StepKind.DISPOSISI:
        urgent = Sifat.SEGERA if sifat is Sifat.BIASA else Sifat.BIASA
        return [
            Choice(f"Setujui ({sifat.value})", Action.DISPOSISI, sifat.value),
            Choice(f"Setujui ({urgent.value})", Action.DISPOSISI, urgent.value),
            Choice("Tulis isi disposisi", Action.ISI, sifat.value),
        ]
    if step.kind is StepKind.PENUGASAN:
        return [
            Choice(name, Action.TUGASKAN, name, "Tugaskan teknisi ini")
            for name in technicians[:ROWS_MAX]
        ]
    return [Choice("Selesai", Action.SELESAI, description=step.kegiatan)]


def interactive(to: str, body: str, buttons: Sequence[tuple[Choice, str]]) -> dict[str, Any]:
    """Reply buttons (up to 3) or a list (up to 10) with the signed ids given."""
    text = _clip(body, BODY_MAX)
    listed = any(c.action is Action.TUGASKAN for c, _ in buttons)  # names: rows are wider
    if len(buttons) <= BUTTONS_MAX and not listed:
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": bid, "title": _clip(c.title, BUTTON_TITLE_MAX)}}
                for c, bid in buttons
            ]
        }
        kind = "button"
    else:
        rows = [
            {
                "id": bid,
                "title": _clip(c.title, ROW_TITLE_MAX),
                "description": _clip(c.description, ROW_DESCRIPTION_MAX),
            }
            for c, bid in buttons[:ROWS_MAX]
        ]
        action = {"button": LIST_BUTTON, "sections": [{"title": "Tindakan", "rows": rows}]}
        kind = "list"
    return message(to, "interactive", {"type": kind, "body": {"text": text}, "action": action})


def template(
    to: str, name: str, language: str, params: Sequence[str], button_id: str
) -> dict[str, Any]:
    """The approved template: body parameters and the payload of its one quick-reply button."""
    # one line each (the API refuses newlines, tabs and runs of spaces in parameters)
    body = [{"type": "text", "text": _clip(" ".join(line(p).split()), PARAM_MAX)} for p in params]
    button = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": button_id}],
    }
    return template_message(to, name, language, [{"type": "body", "parameters": body}, button])


def text(to: str, body: str) -> dict[str, Any]:
    """A plain reply (inside the window: the person has just written)."""
    return text_payload(to, "", body)


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
