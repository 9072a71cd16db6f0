"""A tap (or a typed answer) in WhatsApp performs a SOP action through the TicketService.

The same calls as ``sigap tiket`` and the board (``dispose``, ``assign``, ``handle``,
``complete``) with ``by=<the person>``, the version the message was built from as
``expected_version`` and ``via="whatsapp"`` in the audit trail, so the role checks and the
refusals are the service's own. In front of them:

- identity: the sender's number must be a registered person's (``people[].phone``);
- the button id must verify (:mod:`agent.chat.signing`: signed for this very number, not
  expired) and name the active step at its version, else "tiket sudah diproses oleh X";
- a tap already acted on (the API's retry of the webhook) is answered by nothing at all:
  its wamid is in the intake ledger (:mod:`ticketing.chat`).

Kompleks asks for the usulan and the perkiraan biaya, "Tulis isi disposisi" for the isi and
the laporan step for its text, one question at a time (a dialogue row per phone; "batal"
ends it). Every refusal is answered in Indonesian and changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from agent.chat.buttons import text as text_message
from agent.chat.desk import command
from agent.chat.signing import Action, ActionPayload, PayloadError, is_signed, staleness, verify
from agent.intake.handler import UNAVAILABLE
from agent.intake.phones import phone_key
from ticketing import storable
from ticketing.chat import Dialogue, acted, dialogue, end_dialogue, put_dialogue, record_action
from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidRoleError,
    StepStateError,
    TicketingError,
    UnknownPersonError,
)
from ticketing.service import ProgramDraft
from ticketing.workflow import Complexity, Sifat

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.chat.closeout import CloseOut
    from agent.chat.desk import OpdDesk
    from agent.chat.prompts import Active, Prompter
    from agent.config.model import Person
    from agent.intake.handler import WaMessage
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

VIA: Final = "whatsapp"
DIALOGUE_TTL: Final = timedelta(minutes=30)
CANCEL: Final = frozenset({"batal", "cancel"})
OFFICIALS: Final = frozenset({"kadis", "kabid", "kasi", "teknisi"})
HELP: Final = (
    "Perintah sigap lewat WhatsApp: 'status' (tiket terbuka); 'lapor <uraian>' (pengaduan baru); "
    "'selesai <nomor> <catatan>' (teknisi, boleh dengan foto). Tindakan SOP lewat tombol "
    "pada pesan tiket."
)
ANSWER_MAX: Final = 1000
COST_MAX: Final = 10**13  # Rupiah
STALE: Final = (
    "Tiket {nomor} berubah sejak pesan ini dikirim; tindakan tidak dilakukan. "
    "Pilih lagi dari tombol terbaru."
)
QUESTIONS: Final = {
    "isi": "Tulis isi disposisi untuk tiket {nomor} (balas 'batal' untuk membatalkan).",
    "usulan": "Kompleks: tulis usulan tindakan untuk tiket {nomor} (balas 'batal').",
    "biaya": "Perkiraan biaya (Rupiah, angka saja, mis. 2500000) untuk tiket {nomor}?",
    "laporan": "Tulis laporan singkat penyelesaian tiket {nomor} (balas 'batal').",
}
REFUSALS: Final = {
    "unknown": "Nomor ini tidak terdaftar di sigap; tindakan tidak dilakukan.",
    "malformed": "Tombol ini tidak sah; tindakan tidak dilakukan.",
    "forged": "Tombol ini tidak sah untuk nomor Anda; tindakan tidak dilakukan.",
    "expired": "Tombol ini sudah kedaluwarsa; buka tiket di papan atau tunggu pesan baru.",
    "missing": "Tiket tidak ditemukan atau SOP-nya sudah selesai.",
}


class ChatActions:
    """Turns WhatsApp replies of officials and technicians into SOP actions (blocking)."""

    def __init__(
        self,
        prompter: Prompter,
        store: TicketStore,
        *,
        now: Callable[[], datetime],
        desk: OpdDesk | None = None,
        closeout: CloseOut | None = None,
    ) -> None:
        """Act through ``prompter.service``; answer through ``prompter.post``.

        ``desk`` answers ``status`` (:mod:`agent.chat.desk`).
        """
        self.desk = desk
        self.closeout = closeout
        self.prompter = prompter
        self.service = prompter.service
        self.store = store
        self.now = now

    # -- dispatch ------------------------------------------------------------------------

    def person(self, phone: str) -> Person | None:
        """The registered person of ``phone`` (any role), or None."""
        return self.prompter.by_phone.get(phone_key(phone))

    def wants(self, wa: WaMessage) -> bool:
        """True for a button reply, a command, a dialogue answer, or an official's text.

        Officials and technicians (not OPD contacts) write to sigap to act, not to complain:
        their other text gets the list of commands instead of becoming a complaint (they
        report one with ``lapor <teks>``, which the webhook hands to intake first).
        """
        if wa.reply_id:
            return True
        person = self.person(wa.phone)
        if not wa.text or person is None:
            return False
        verb = _verb(wa)
        if verb == "status":
            return self.desk is not None
        if verb == "selesai" and person.role == "teknisi":
            return self.closeout is not None
        if person.role in OFFICIALS:
            return True
        return dialogue(self.store, phone_key(wa.phone), self.now()) is not None

    def handle_blocking(self, wa: WaMessage) -> str:
        """Act on ``wa`` and answer the sender; the outcome (``done``, ``refused:...``).

        Never raises for the message's sake (the next message of the webhook must still be
        taken); only a database that cannot be reached propagates (the API retries).
        """
        try:
            return self._handle(wa)
        except UNAVAILABLE:
            raise
        except Exception:  # one bad message must not take the others down with it
            logger.exception("WhatsApp action %s from %s failed", wa.wamid[:80], wa.phone[:32])
            return "refused:error"

    def _handle(self, wa: WaMessage) -> str:
        phone = phone_key(wa.phone)
        if acted(self.store, wa.wamid) is not None:
            return "duplicate"
        person = self.person(wa.phone)
        if person is None:
            return self._refuse(phone, "unknown")
        if wa.reply_id:
            return self._tap(wa, phone, person)
        if self.desk is not None and _verb(wa) == "status":
            return self._say(phone, self.desk.status(person), "status")
        found = command(wa.text)
        if self.closeout is not None and found is not None and found[0] == "selesai":
            return self.closeout.handle(wa, phone, person, found[1], self._say)
        return self._answer(wa, phone, person)

    # -- a tap ---------------------------------------------------------------------------

    def _tap(self, wa: WaMessage, phone: str, person: Person) -> str:
        if not is_signed(wa.reply_id):
            return self._refuse(phone, "malformed")
        try:
            payload = verify(self.prompter.secret, wa.reply_id, self.now(), phone)
        except PayloadError as exc:
            logger.warning("WhatsApp tap from %s refused: %s", phone, exc.reason)
            return self._refuse(phone, exc.reason)
        a = self.prompter.active(payload.number)
        late = staleness(payload, step=a.step.position if a else None, version=_version(a))
        if a is None or late == "other_step":
            return self._processed(phone, payload)
        if not self.prompter.may_act(person, a):
            return self._say(
                phone,
                f"Langkah {a.step.title} tiket {payload.number} bukan bagian Anda "
                f"({person.role}); tindakan tidak dilakukan.",
                "refused:role",
            )
        if late == "stale" and payload.action is not Action.MENU:
            # same step, but the ticket changed since this message: fresh buttons, no action
            self._say(phone, STALE.format(nomor=payload.number), "refused:stale")
            self.prompter.post(self.prompter.message(a, phone))
            return "refused:stale"
        return self._start(wa, phone, person, payload, a)

    def _start(
        self, wa: WaMessage, phone: str, person: Person, payload: ActionPayload, a: Active
    ) -> str:
        """The menu, the first question of a dialogue, or the action itself."""
        if payload.action is Action.MENU:  # the tap opened the 24-hour window: record it first
            self._record(wa, phone, payload.number, "menu")
            self.prompter.post(self.prompter.message(a, phone))
            return "menu"
        stage = self._stage_of(payload, a)
        if stage is not None:
            put_dialogue(self.store, _dialogue(phone, person, payload, stage, self.now()))
            self._record(wa, phone, payload.number, f"{payload.action.value}: pertanyaan {stage}")
            return self._say(phone, QUESTIONS[stage].format(nomor=payload.number), "asked")
        return self._act(wa, phone, person, payload, {})

    @staticmethod
    def _stage_of(payload: ActionPayload, a: Active) -> str | None:
        if payload.action is Action.ISI:
            return "isi"
        if payload.action is Action.KOMPLEKS:
            return "usulan"
        if payload.action is Action.SELESAI and a.step.document is not None:
            return "laporan"
        return None

    # -- a typed answer ------------------------------------------------------------------

    def _answer(self, wa: WaMessage, phone: str, person: Person) -> str:
        d = dialogue(self.store, phone, self.now())
        if d is None or d.person != person.name:
            return self._say(phone, HELP, "help")
        text = storable.line(wa.text, ANSWER_MAX)
        if text.casefold() in CANCEL:
            end_dialogue(self.store, phone)
            return self._say(phone, f"Dibatalkan; tiket {d.number} tidak berubah.", "cancelled")
        payload = ActionPayload(
            d.number, d.step, Action(d.action), d.version, d.expires_at, d.argument
        )
        answers = {**d.answers, d.stage: text}
        if d.stage == "usulan":
            put_dialogue(self.store, replace(d, stage="biaya", answers=answers))
            self._record(wa, phone, d.number, "usulan")
            return self._say(phone, QUESTIONS["biaya"].format(nomor=d.number), "asked")
        if d.stage == "biaya" and _rupiah(text) is None:
            return self._say(phone, QUESTIONS["biaya"].format(nomor=d.number), "asked")
        return self._act(wa, phone, person, payload, answers)

    # -- the service call ----------------------------------------------------------------

    def _act(
        self,
        wa: WaMessage,
        phone: str,
        person: Person,
        p: ActionPayload,
        answers: dict[str, str],
    ) -> str:
        try:
            done = self._call(person, p, answers)
        except InvalidRoleError as exc:
            end_dialogue(self.store, phone)
            return self._say(phone, f"{exc}; tindakan tidak dilakukan.", "refused:role")
        except (ConcurrentUpdateError, StepStateError):
            end_dialogue(self.store, phone)
            return self._processed(phone, p)
        except (TicketingError, UnknownPersonError, ValueError) as exc:
            end_dialogue(self.store, phone)
            return self._say(phone, f"Tidak dapat diproses: {exc}", "refused:invalid")
        end_dialogue(self.store, phone)
        self._record(wa, phone, p.number, done)
        logger.info("WhatsApp: %s did %s on %s step %d", person.name, done, p.number, p.step)
        after = self.prompter.active(p.number)
        nxt = f" Langkah berikut: {after.step.title}." if after else " SOP tiket selesai."
        text = f"Tersimpan: {done} tiket {p.number} oleh {person.name} lewat WhatsApp.{nxt}"
        return self._say(phone, text, "done")

    def _call(self, person: Person, p: ActionPayload, answers: dict[str, str]) -> str:
        svc, by, v = self.service, person.name, p.version
        if p.action in {Action.DISPOSISI, Action.ISI}:
            sifat = Sifat(p.argument or Sifat.BIASA.value)
            a = self.prompter.active(p.number)
            isi = answers.get("isi") or f"Tindak lanjuti: {a.ticket.summary if a else p.number}"
            svc.dispose(p.number, by=by, isi=isi, sifat=sifat, expected_version=v, via=VIA)
            return f"disposisi ({sifat.value})"
        if p.action is Action.TUGASKAN:
            svc.assign(p.number, by=by, technician=p.argument, expected_version=v, via=VIA)
            return f"penugasan {p.argument}"
        if p.action is Action.SEDERHANA:
            svc.handle(
                p.number, by=by, complexity=Complexity.SEDERHANA, expected_version=v, via=VIA
            )
            return "keputusan sederhana"
        if p.action is Action.KOMPLEKS:
            draft = ProgramDraft(
                proposed_action=answers.get("usulan", ""),
                estimated_cost=_rupiah(answers.get("biaya", "")) or 0,
            )
            svc.handle(
                p.number,
                by=by,
                complexity=Complexity.KOMPLEKS,
                program=draft,
                notes=draft.proposed_action,
                expected_version=v,
                via=VIA,
            )
            return "keputusan kompleks"
        if p.action is Action.SELESAI:
            report = answers.get("laporan", "")
            svc.complete(
                p.number,
                by=by,
                notes=report or "selesai lewat WhatsApp",
                document={"isi": report} if report else None,
                expected_version=v,
                via=VIA,
            )
            return "langkah selesai"
        raise ValueError(f"tindakan {p.action.value} tidak dikenal")

    def _record(self, wa: WaMessage, phone: str, number: str, what: str) -> None:
        record_action(
            self.store, wamid=wa.wamid, number=number, phone=phone, at=self.now(), what=what
        )

    # -- replies -------------------------------------------------------------------------

    def _processed(self, phone: str, p: ActionPayload) -> str:
        who = "orang lain"
        try:
            steps = self.service.steps(p.number)
            if 0 < p.step <= len(steps) and steps[p.step - 1].completed_by:
                who = str(steps[p.step - 1].completed_by)
        except TicketingError:
            return self._refuse(phone, "missing")
        text = f"Tiket {p.number} sudah diproses oleh {who}; tindakan Anda tidak dilakukan."
        return self._say(phone, text, "refused:stale")

    def _refuse(self, phone: str, reason: str) -> str:
        return self._say(phone, REFUSALS.get(reason, REFUSALS["malformed"]), f"refused:{reason}")

    def _say(self, phone: str, text: str, outcome: str) -> str:
        result = self.prompter.post(text_message(phone, text))
        if not result.ok:
            logger.warning("WhatsApp reply to %s not sent: %s", phone, result.error)
        return outcome


def _verb(wa: WaMessage) -> str:
    found = command(wa.text)
    return found[0] if found else ""


def _version(a: Active | None) -> int:
    return a.ticket.version if a is not None else -1


def _rupiah(text: str) -> int | None:
    """``Rp 2.500.000`` / ``2500000`` -> 2500000; None when not a plain amount."""
    digits = re.sub(r"(?i)^rp\.?\s*|[.,\s]", "", text.strip())
    if not digits.isdigit() or len(digits) > 14:  # noqa: PLR2004
        return None
    value = int(digits)
    return value if value <= COST_MAX else None


def _dialogue(phone: str, person: Person, p: ActionPayload, stage: str, now: datetime) -> Dialogue:
    return Dialogue(
        phone,
        person.name,
        p.number,
        p.step,
        p.version,
        p.action.value,
        p.argument,
        stage,
        now + DIALOGUE_TTL,
    )
